import type { ProcessedEventMessage, StoredEvent } from '../domain/processed-event';
import type { GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context';
import { encodeCursor } from '../domain/cursor';
import { ClientError, ErrorCode } from '../errors';
import type { Logger } from '../logger';

import type { Queryable } from '../store';

import { findEvents, type EventQuery } from '../store/event-queries';
import type { Delivery } from './delivery';
import { slowConsumer, type Subscriber } from './subscriber';
import type { SubscriptionRegistry } from './subscriptions';

const CATCH_UP_PAGE = 200;

interface EventSubscriber extends Subscriber {
  filter: EventQuery;
  lastSeq: number;
  catchingUp: boolean;
  queue: ProcessedEventMessage[];
}

export interface EventStreamOptions {
  store: Queryable;
  logger: Logger;
  /** Where the live stream stands: the position of the last event accepted in order. */
  position: () => number;
  /** Events held for a subscriber while it catches up from the store, at most. */
  maxQueuedEvents: number;
}

/** Whether a stored event passes a subscription's filter. */
export function matches(f: EventQuery, e: StoredEvent): boolean {
  if (f.userId && e.userId !== f.userId) return false;
  if (f.types && f.types.length > 0 && !f.types.includes(e.type)) return false;
  if (f.sessionId && e.sessionId !== f.sessionId) return false;
  if (f.contentId && e.contentId !== f.contentId) return false;
  if (f.since && e.occurredAt < f.since.toISOString()) return false;
  if (f.until && e.occurredAt >= f.until.toISOString()) return false;
  return true;
}

/**
 * The `eventProcessed` stream: processed events in processing order, each to the subscribers
 * whose filter it passes. A subscriber resuming from a cursor is sent the stored events after it
 * first, while live ones queue for it, so it sees each event once and in order.
 */
export class EventStream {
  private readonly all = new Set<EventSubscriber>();
  /** Subscribers whose filter names a user (every `user` token's), by that user. */
  private readonly byUser = new Map<string, Set<EventSubscriber>>();
  /** Subscribers whose filter names no user: they see every event that passes it. */
  private readonly anyUser = new Set<EventSubscriber>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly delivery: Delivery,
    private readonly o: EventStreamOptions,
  ) {}

  get size(): number {
    return this.all.size;
  }

  /**
   * Registers a subscriber. With `afterSeq`, the stored events after it are sent first (from the
   * store, up to where the live stream stands), then the live ones, each once.
   */
  subscribe(context: GatewayContext, info: GraphQLResolveInfo, filter: EventQuery, afterSeq: number | null): AsyncIterable<unknown> {
    const position = this.o.position();
    const holder: { sub?: EventSubscriber } = {};
    const base = this.registry.open(context, info, () => this.remove(holder.sub));
    const sub: EventSubscriber = Object.assign(base, {
      filter,
      lastSeq: afterSeq ?? position,
      catchingUp: afterSeq !== null && afterSeq < position,
      queue: [],
    });
    holder.sub = sub;
    this.add(sub);
    if (sub.catchingUp) void this.catchUp(sub, position);
    return sub.control;
  }

  /** Accepts the next processed event, in processing order; deliveries run one event at a time. */
  publish(e: ProcessedEventMessage): void {
    if (this.stopped) return;
    this.chain = this.chain.then(() => this.deliver(e)).catch((err) => this.o.logger.error({ err }, 'event delivery failed'));
  }

  stop(): void {
    this.stopped = true;
  }

  private add(sub: EventSubscriber): void {
    this.all.add(sub);
    const user = sub.filter.userId;
    if (!user) {
      this.anyUser.add(sub);
      return;
    }
    let set = this.byUser.get(user);
    if (!set) this.byUser.set(user, (set = new Set()));
    set.add(sub);
  }

  private remove(sub: EventSubscriber | undefined): void {
    if (!sub || !this.all.delete(sub)) return;
    const user = sub.filter.userId;
    if (!user) {
      this.anyUser.delete(sub);
      return;
    }
    const set = this.byUser.get(user);
    set?.delete(sub);
    if (set?.size === 0) this.byUser.delete(user);
  }

  private async deliver(e: ProcessedEventMessage): Promise<void> {
    // The subscribers it could concern: those of its user, and those of no particular user.
    const live: EventSubscriber[] = [];
    const own = this.byUser.get(e.userId);
    if (own) for (const sub of own) this.consider(sub, e, live);
    for (const sub of this.anyUser) this.consider(sub, e, live);
    if (live.length === 0) return;
    await this.delivery.toAll(live, e, e.seq);
  }

  /** Adds `sub` to `live` if `e` is for it and it is live; queues `e` for it if it is catching up. */
  private consider(sub: EventSubscriber, e: ProcessedEventMessage, live: EventSubscriber[]): void {
    if (sub.ended || !matches(sub.filter, e)) return;
    if (sub.catchingUp) {
      sub.queue.push(e);
      if (sub.queue.length > this.o.maxQueuedEvents) this.registry.end(sub, slowConsumer(encodeCursor('ev', sub.lastSeq)));
      return;
    }
    if (e.seq > sub.lastSeq) live.push(sub);
  }

  private async catchUp(sub: EventSubscriber, upTo: number): Promise<void> {
    try {
      let after = sub.lastSeq;
      for (;;) {
        if (sub.ended) return;
        const rows = await findEvents(this.o.store, sub.filter, CATCH_UP_PAGE, after);
        const inRange = rows.filter((r) => r.seq <= upTo);
        for (const r of inRange) {
          if (!(await this.delivery.toOne(sub, { ...r, cursor: encodeCursor('ev', r.seq) }))) return;
          sub.lastSeq = r.seq;
        }
        if (rows.length < CATCH_UP_PAGE || inRange.length < rows.length) break;
        after = rows.at(-1)!.seq;
      }
      // What arrived live meanwhile, in order; new arrivals keep joining the queue until it is empty.
      while (sub.queue.length > 0) {
        const e = sub.queue.shift()!;
        if (e.seq <= sub.lastSeq) continue;
        if (!(await this.delivery.toOne(sub, e))) return;
        sub.lastSeq = e.seq;
      }
      sub.catchingUp = false;
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'catch-up failed');
      this.registry.end(sub, new ClientError(ErrorCode.SERVICE_UNAVAILABLE, 'The store is unavailable; resubscribe later.'));
    }
  }
}
