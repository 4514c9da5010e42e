import { execute } from 'graphql';
import WebSocket from 'ws';
import { encodeCursor } from '../domain/cursor';
import { maskError } from '../errors';
import type { Loaders } from '../resolvers/loaders';
import type { SocketOutbox } from './frames';
import { slowConsumer, type Selection, type Subscriber } from './subscriber';
import type { SubscriptionRegistry } from './subscriptions';

const SUFFIX = Buffer.from('}');

export interface DeliveryOptions {
  createLoaders: () => Loaders;
  development: boolean;
  /** Bytes waiting on a socket beyond which a subscriber counts as fallen behind. */
  maxBufferedBytes: number;
  /** Every delivered message, for metrics. */
  onDelivered?: (n: number) => void;
}

/**
 * Renders a payload once per selection and writes the same bytes to every subscriber of it, with
 * only the subscription id in front. A subscriber whose socket holds more than `maxBufferedBytes`
 * (written and queued) is ended with SLOW_CONSUMER and the cursor to resume from.
 */
export class Delivery {
  constructor(
    private readonly outbox: SocketOutbox,
    private readonly registry: SubscriptionRegistry,
    private readonly o: DeliveryOptions,
  ) {}

  /**
   * Renders `root` once per selection group and writes it to every subscriber of the group; with
   * `seq` (an event's), each subscriber it was sent to has it as its last.
   */
  async toAll(subs: Subscriber[], root: unknown, seq?: number): Promise<void> {
    // Subscribers of one selection mostly come in a row: the map is asked only where it changes.
    const groups = new Map<Selection, Subscriber[]>();
    let selection: Selection | undefined;
    let group: Subscriber[] = [];
    for (const s of subs) {
      if (s.selection !== selection) {
        selection = s.selection;
        const g = groups.get(selection);
        if (g) group = g;
        else groups.set(selection, (group = []));
      }
      group.push(s);
    }
    let delivered = 0;
    await Promise.all(
      [...groups.values()].map(async (members) => {
        const payload = await this.render(members[0]!, root);
        for (const s of members) {
          if (this.send(s, payload)) {
            delivered++;
            if (seq !== undefined) s.lastSeq = seq;
          }
        }
      }),
    );
    this.o.onDelivered?.(delivered);
  }

  /** Renders and writes `root` to one subscriber; false when it was not sent (ended, closed or too far behind). */
  async toOne(sub: Subscriber, root: unknown): Promise<boolean> {
    const payload = await this.render(sub, root);
    if (!this.send(sub, payload)) return false;
    this.o.onDelivered?.(1);
    return true;
  }

  private async render(sub: Subscriber, root: unknown): Promise<Buffer> {
    const { schema, document, variableValues, operationName } = sub.selection;
    const result = await execute({
      schema,
      document,
      rootValue: root,
      contextValue: { ...sub.context, loaders: this.o.createLoaders() },
      variableValues,
      operationName,
    });
    const payload = {
      ...(result.data !== undefined ? { data: result.data } : {}),
      ...(result.errors ? { errors: result.errors.map((e) => maskError(e.toJSON(), this.o.development)) } : {}),
    };
    return Buffer.from(JSON.stringify(payload));
  }

  private send(sub: Subscriber, payload: Buffer): boolean {
    if (sub.ended) return false;
    const outlet = sub.outlet;
    if (outlet.socket.readyState !== WebSocket.OPEN) return false;
    if (outlet.backlog > this.o.maxBufferedBytes) {
      this.registry.end(sub, slowConsumer(sub.lastSeq !== undefined ? encodeCursor('ev', sub.lastSeq) : ''));
      return false;
    }
    this.outbox.send(outlet, sub.prefix, payload, SUFFIX);
    return true;
  }
}
