import type { PubSub } from 'type-graphql';
import { PushIterator } from '../src/streaming/push-iterator';

/**
 * The pub/sub of the plain graphql-ws and type-graphql reference server (plain-subscriptions.ts),
 * the yardstick of the fan-out scenario; the gateway itself fans out through its stream hub.
 *
 * A typed in-process pub/sub: `Topics` maps each topic name to its payload type, so a publisher
 * cannot send the wrong shape. Each subscriber gets a bounded PushIterator; one that overflows
 * ends with the error `onOverflow` makes and is dropped, never slowing the others.
 */
export class TypedPubSub<Topics extends Record<string, unknown>> implements PubSub {
  private readonly subscribers = new Map<keyof Topics, Set<PushIterator<unknown>>>();

  constructor(private readonly capacity = 1_000) {}

  publish<K extends keyof Topics & string>(topic: K, payload: Topics[K]): void {
    const subs = this.subscribers.get(topic);
    if (!subs) return;
    for (const it of subs) it.push(payload);
  }

  subscribe<K extends keyof Topics & string>(
    topic: K,
    options: { capacity?: number; onOverflow?: (dropped: Topics[K]) => Error } = {},
  ): PushIterator<Topics[K]> {
    let subs = this.subscribers.get(topic);
    if (!subs) {
      subs = new Set();
      this.subscribers.set(topic, subs);
    }
    const set = subs;
    const it = new PushIterator<Topics[K]>({
      capacity: options.capacity ?? this.capacity,
      onOverflow: options.onOverflow,
      onClose: () => {
        set.delete(it as PushIterator<unknown>);
        if (set.size === 0) this.subscribers.delete(topic);
      },
    });
    set.add(it as PushIterator<unknown>);
    return it;
  }

  /** Live subscribers of a topic. */
  count(topic: keyof Topics): number {
    return this.subscribers.get(topic)?.size ?? 0;
  }
}
