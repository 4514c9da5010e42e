import { execute, Kind, print, type DocumentNode, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import WebSocket from 'ws';
import { canReadAll } from '../auth/principal';
import type { GatewayContext, SocketTarget } from '../context';
import { severityRank, type FraudAlertMessage } from '../domain/alerts';
import { encodeCursor } from '../domain/cursor';
import { Lru } from '../domain/lru';
import { ClientError, ErrorCode, maskError } from '../errors';
import type { Logger } from '../logger';
import type { ProcessedEventMessage } from '../processing/processor';
import type { Loaders } from '../resolvers/loaders';
import { PushIterator } from '../pubsub/push-iterator';
import type { Severity } from '../schema/common/enums';
import { dashboardAt, type DashboardData } from '../store/dashboard-queries';
import { findEvents, type EventQuery } from '../store/event-queries';
import { SocketOutbox, type Outlet } from './frames';
import type { Queryable } from '../store';
import type { StoredEvent } from '../store/rows';

/**
 * What a subscription's own iterator yields: only the end. Data never goes through it: the hub
 * writes `next` messages to the socket itself, rendered once per distinct selection.
 */
export class SubscriptionEnd {
  constructor(readonly error: ClientError) {}
}

/**
 * A subscription's selection: subscribers with equal keys receive byte-identical payloads. The hub
 * keeps one object per key while any subscription has it, so a delivery groups subscribers by the
 * object, not by its key.
 */
interface Selection {
  key: string;
  /** Subscriptions that have it. */
  users: number;
  schema: GraphQLSchema;
  document: DocumentNode;
  variableValues: Record<string, unknown>;
  operationName?: string;
}

interface Subscriber {
  target: SocketTarget;
  /** The socket's way out, shared by the socket's subscriptions. */
  outlet: Outlet;
  /** `{"id":…,"type":"next","payload":` for this subscription. */
  prefix: Buffer;
  selection: Selection;
  context: GatewayContext;
  control: PushIterator<unknown>;
  ended: boolean;
}

interface EventSubscriber extends Subscriber {
  filter: EventQuery;
  /** The last event sent (or the position it started after): what `resumeAfter` names. */
  lastSeq: number;
  catchingUp: boolean;
  queue: ProcessedEventMessage[];
}

interface AlertSubscriber extends Subscriber {
  minRank: number;
}

interface DashboardSubscriber extends Subscriber {
  intervalSeconds: number;
}

interface Ticker {
  timer: NodeJS.Timeout;
  subscribers: Set<DashboardSubscriber>;
  latest?: DashboardData;
  computing?: Promise<DashboardData>;
}

export interface HubOptions {
  store: Queryable;
  createLoaders: () => Loaders;
  logger: Logger;
  development: boolean;
  /** Where the live stream stands: the position of the last event accepted in order. */
  position: () => number;
  /** Bytes waiting on a socket beyond which a subscriber counts as fallen behind. */
  maxBufferedBytes: number;
  /** Events held for a subscriber while it catches up from the store, at most. */
  maxQueuedEvents: number;
  /** Every delivered message, for metrics. */
  onDelivered?: (n: number) => void;
  /** Every socket write carrying delivered messages (one a socket and turn), for metrics. */
  onWrites?: (n: number) => void;
  /** Every dashboard snapshot computed, for metrics. */
  onSnapshot?: () => void;
  now?: () => Date;
}

const SUFFIX = Buffer.from('}');
const CATCH_UP_PAGE = 200;

export function matches(f: EventQuery, e: StoredEvent): boolean {
  if (f.userId && e.userId !== f.userId) return false;
  if (f.types && f.types.length > 0 && !f.types.includes(e.type)) return false;
  if (f.sessionId && e.sessionId !== f.sessionId) return false;
  if (f.contentId && e.contentId !== f.contentId) return false;
  if (f.since && e.occurredAt < f.since.toISOString()) return false;
  if (f.until && e.occurredAt >= f.until.toISOString()) return false;
  return true;
}

export const slowConsumer = (resumeAfter: string): ClientError =>
  new ClientError(ErrorCode.SLOW_CONSUMER, 'This subscription fell too far behind and was ended; resubscribe with `after: resumeAfter`.', {
    resumeAfter,
  });

/**
 * Fan-out of processed events, fraud alerts and dashboard snapshots to graphql-ws subscribers
 * of this instance. Subscribers are filtered before any GraphQL work; the survivors are grouped
 * by selection (document, variables, and whether they may see everything), each group's
 * payload is executed and serialized once, and the same bytes are written to every socket of
 * the group with only the subscription id in front; what a socket gets in one turn leaves in one
 * write (`SocketOutbox`). A subscriber whose socket holds more than `maxBufferedBytes` (written
 * and queued) is ended with SLOW_CONSUMER and the cursor to resume from.
 */
export class StreamHub {
  private readonly events = new Set<EventSubscriber>();
  /** Event subscribers whose filter names a user (every `user` token's), by that user. */
  private readonly eventsByUser = new Map<string, Set<EventSubscriber>>();
  /** Event subscribers whose filter names no user: they see every event that passes it. */
  private readonly eventsAnyUser = new Set<EventSubscriber>();
  private readonly alerts = new Set<AlertSubscriber>();
  private readonly tickers = new Map<number, Ticker>();
  private readonly bySocket = new WeakMap<WebSocket, Set<Subscriber>>();
  private readonly seenAlerts = new Lru<string, true>(10_000);
  private readonly selections = new Map<string, Selection>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly log: Logger;
  private readonly outbox: SocketOutbox;

  constructor(private readonly o: HubOptions) {
    this.log = o.logger.child({ component: 'hub' });
    this.outbox = new SocketOutbox(o.onWrites);
  }

  /** Distinct selections among live subscriptions. */
  get selectionCount(): number {
    return this.selections.size;
  }

  get subscriberCount(): number {
    let n = this.events.size + this.alerts.size;
    for (const t of this.tickers.values()) n += t.subscribers.size;
    return n;
  }

  // ---- subscribing -------------------------------------------------------------------------

  /** The one selection object of `key`, made by `make` if no subscription has it now. */
  private selectionOf(key: string, make: () => Omit<Selection, 'key' | 'users'>): Selection {
    let selection = this.selections.get(key);
    if (!selection) this.selections.set(key, (selection = { key, users: 0, ...make() }));
    selection.users++;
    return selection;
  }

  private release(selection: Selection): void {
    if (--selection.users === 0 && this.selections.get(selection.key) === selection) this.selections.delete(selection.key);
  }

  private base(context: GatewayContext, info: GraphQLResolveInfo, remove: () => void): Subscriber {
    const target = context.ws;
    if (!target) throw new Error('subscriptions are served over WebSocket only');
    const fragments = Object.values(info.fragments);
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [info.operation, ...fragments] };
    const seesAll = context.principal !== null && canReadAll(context.principal);
    const key = `${seesAll ? 'A' : 'U'}|${print(info.operation)}|${fragments.map((f) => print(f)).join('|')}|${JSON.stringify(info.variableValues)}`;
    const sub: Subscriber = {
      target,
      outlet: this.outbox.outlet(target.socket),
      prefix: Buffer.from(`{"id":${JSON.stringify(target.id)},"type":"next","payload":`),
      selection: this.selectionOf(key, () => ({ schema: info.schema, document, variableValues: info.variableValues, operationName: info.operation.name?.value })),
      context,
      ended: false,
      control: new PushIterator<unknown>({
        capacity: 2,
        onClose: () => {
          sub.ended = true;
          this.release(sub.selection);
          remove();
          this.bySocket.get(target.socket)?.delete(sub);
        },
      }),
    };
    let set = this.bySocket.get(target.socket);
    if (!set) this.bySocket.set(target.socket, (set = new Set()));
    set.add(sub);
    return sub;
  }

  /**
   * Registers an eventProcessed subscriber. With `afterSeq`, the stored events after it are sent
   * first (from the store, up to where the live stream stands), then the live ones, each once.
   */
  subscribeEvents(context: GatewayContext, info: GraphQLResolveInfo, filter: EventQuery, afterSeq: number | null): AsyncIterable<unknown> {
    const position = this.o.position();
    const holder: { sub?: EventSubscriber } = {};
    const base = this.base(context, info, () => this.removeEventSubscriber(holder.sub!));
    const sub: EventSubscriber = Object.assign(base, {
      filter,
      lastSeq: afterSeq ?? position,
      catchingUp: afterSeq !== null && afterSeq < position,
      queue: [],
    });
    holder.sub = sub;
    this.addEventSubscriber(sub);
    if (sub.catchingUp) void this.catchUp(sub, position);
    return sub.control;
  }

  subscribeAlerts(context: GatewayContext, info: GraphQLResolveInfo, minSeverity: Severity): AsyncIterable<unknown> {
    const holder: { sub?: AlertSubscriber } = {};
    const sub: AlertSubscriber = Object.assign(this.base(context, info, () => this.alerts.delete(holder.sub!)), {
      minRank: severityRank(minSeverity),
    });
    holder.sub = sub;
    this.alerts.add(sub);
    return sub.control;
  }

  /** A dashboard subscriber gets the latest snapshot now, then one every interval. */
  subscribeDashboard(context: GatewayContext, info: GraphQLResolveInfo, intervalSeconds: number): AsyncIterable<unknown> {
    let ticker = this.tickers.get(intervalSeconds);
    if (!ticker) {
      const timer = setInterval(() => void this.tick(intervalSeconds), intervalSeconds * 1000);
      timer.unref();
      ticker = { timer, subscribers: new Set() };
      this.tickers.set(intervalSeconds, ticker);
    }
    const t = ticker;
    const holder: { sub?: DashboardSubscriber } = {};
    const sub: DashboardSubscriber = Object.assign(
      this.base(context, info, () => {
        t.subscribers.delete(holder.sub!);
        if (t.subscribers.size === 0) {
          clearInterval(t.timer);
          this.tickers.delete(intervalSeconds);
        }
      }),
      { intervalSeconds },
    );
    holder.sub = sub;
    t.subscribers.add(sub);
    void (async () => {
      try {
        const snapshot = t.latest ?? (await this.snapshot(t));
        await this.deliver([sub], snapshot);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'first dashboard snapshot failed');
      }
    })();
    return sub.control;
  }

  // ---- the live streams --------------------------------------------------------------------

  /** Accepts the next processed event, in processing order; deliveries run one event at a time. */
  publishEvent(e: ProcessedEventMessage): void {
    if (this.stopped) return;
    this.chain = this.chain.then(() => this.deliverEvent(e)).catch((err) => this.log.error({ err }, 'event delivery failed'));
  }

  publishAlert(a: FraudAlertMessage): void {
    if (this.stopped || this.seenAlerts.get(a.alertId)) return;
    this.seenAlerts.set(a.alertId, true);
    const rank = severityRank(a.severity);
    const subs = [...this.alerts].filter((s) => !s.ended && rank >= s.minRank);
    if (subs.length > 0) void this.deliver(subs, a).catch((err) => this.log.error({ err }, 'alert delivery failed'));
  }

  private addEventSubscriber(sub: EventSubscriber): void {
    this.events.add(sub);
    const user = sub.filter.userId;
    if (!user) {
      this.eventsAnyUser.add(sub);
      return;
    }
    let set = this.eventsByUser.get(user);
    if (!set) this.eventsByUser.set(user, (set = new Set()));
    set.add(sub);
  }

  private removeEventSubscriber(sub: EventSubscriber | undefined): void {
    if (!sub || !this.events.delete(sub)) return;
    const user = sub.filter.userId;
    if (!user) {
      this.eventsAnyUser.delete(sub);
      return;
    }
    const set = this.eventsByUser.get(user);
    set?.delete(sub);
    if (set?.size === 0) this.eventsByUser.delete(user);
  }

  private async deliverEvent(e: ProcessedEventMessage): Promise<void> {
    // The subscribers it could concern: those of its user, and those of no particular user.
    const live: EventSubscriber[] = [];
    const own = this.eventsByUser.get(e.userId);
    if (own) for (const sub of own) this.consider(sub, e, live);
    for (const sub of this.eventsAnyUser) this.consider(sub, e, live);
    if (live.length === 0) return;
    await this.deliver(live, e, e.seq);
  }

  /** Adds `sub` to `live` if `e` is for it and it is live; queues `e` for it if it is catching up. */
  private consider(sub: EventSubscriber, e: ProcessedEventMessage, live: EventSubscriber[]): void {
    if (sub.ended || !matches(sub.filter, e)) return;
    if (sub.catchingUp) {
      sub.queue.push(e);
      if (sub.queue.length > this.o.maxQueuedEvents) this.end(sub, slowConsumer(encodeCursor('ev', sub.lastSeq)));
      return;
    }
    if (e.seq > sub.lastSeq) live.push(sub);
  }

  /**
   * Renders `root` once per selection group and writes it to every subscriber of the group; with
   * `seq` (an event's), each subscriber it was sent to has it as its last.
   */
  private async deliver(subs: Subscriber[], root: unknown, seq?: number): Promise<void> {
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
            if (seq !== undefined) (s as EventSubscriber).lastSeq = seq;
          }
        }
      }),
    );
    this.o.onDelivered?.(delivered);
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
      const resume = 'lastSeq' in sub ? encodeCursor('ev', (sub as EventSubscriber).lastSeq) : '';
      this.end(sub, slowConsumer(resume));
      return false;
    }
    this.outbox.send(outlet, sub.prefix, payload, SUFFIX);
    return true;
  }

  /** Ends a subscription with an error: graphql-ws sends it as the last `next`, then `complete`. */
  end(sub: Subscriber, error: ClientError): void {
    if (sub.ended) return;
    sub.ended = true;
    this.removeEventSubscriber(sub as EventSubscriber);
    this.alerts.delete(sub as AlertSubscriber);
    // graphql-ws writes the error and `complete` through ws: what was queued goes first.
    this.outbox.flush(sub.outlet);
    sub.control.push(new SubscriptionEnd(error));
    sub.control.end();
  }

  /**
   * Ends every subscription of a socket with `error`, writing the error and `complete` for each
   * directly, so they are on the wire before the caller closes the socket.
   */
  endSocket(socket: WebSocket, error: ClientError): void {
    const subs = this.bySocket.get(socket);
    if (!subs) return;
    const payload = JSON.stringify({ errors: [maskError(error.toJSON(), this.o.development)] });
    this.outbox.flush(this.outbox.outlet(socket));
    for (const sub of subs) {
      if (sub.ended) continue;
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(Buffer.concat([sub.prefix, Buffer.from(payload), SUFFIX]), { binary: false });
        socket.send(`{"id":${JSON.stringify(sub.target.id)},"type":"complete"}`);
      }
      sub.ended = true;
      this.removeEventSubscriber(sub as EventSubscriber);
      this.alerts.delete(sub as AlertSubscriber);
    }
  }

  private async catchUp(sub: EventSubscriber, upTo: number): Promise<void> {
    try {
      let after = sub.lastSeq;
      for (;;) {
        if (sub.ended) return;
        const rows = await findEvents(this.o.store, sub.filter, CATCH_UP_PAGE, after);
        const inRange = rows.filter((r) => r.seq <= upTo);
        for (const r of inRange) {
          const payload = await this.render(sub, { ...r, cursor: encodeCursor('ev', r.seq) });
          if (!this.send(sub, payload)) return;
          sub.lastSeq = r.seq;
          this.o.onDelivered?.(1);
        }
        if (rows.length < CATCH_UP_PAGE || inRange.length < rows.length) break;
        after = rows.at(-1)!.seq;
      }
      // What arrived live meanwhile, in order; new arrivals keep joining the queue until it is empty.
      while (sub.queue.length > 0) {
        const e = sub.queue.shift()!;
        if (e.seq <= sub.lastSeq) continue;
        const payload = await this.render(sub, e);
        if (!this.send(sub, payload)) return;
        sub.lastSeq = e.seq;
        this.o.onDelivered?.(1);
      }
      sub.catchingUp = false;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'catch-up failed');
      this.end(sub, new ClientError(ErrorCode.SERVICE_UNAVAILABLE, 'The store is unavailable; resubscribe later.'));
    }
  }

  private snapshot(t: Ticker): Promise<DashboardData> {
    if (!t.computing) {
      this.o.onSnapshot?.();
      t.computing = dashboardAt(this.o.store, (this.o.now ?? (() => new Date()))()).then(
        (d) => {
          t.latest = d;
          t.computing = undefined;
          return d;
        },
        (err) => {
          t.computing = undefined;
          throw err;
        },
      );
    }
    return t.computing;
  }

  /** One snapshot per interval per instance, however many subscribe to it. */
  private async tick(intervalSeconds: number): Promise<void> {
    const t = this.tickers.get(intervalSeconds);
    if (!t || t.subscribers.size === 0) return;
    try {
      const snapshot = await this.snapshot(t);
      await this.deliver([...t.subscribers].filter((s) => !s.ended), snapshot);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'dashboard snapshot failed');
    }
  }

  /** How many dashboard snapshots are computed per interval (for tests and metrics). */
  tickerCount(): number {
    return this.tickers.size;
  }

  stop(): void {
    this.stopped = true;
    this.outbox.flushAll();
    for (const t of this.tickers.values()) clearInterval(t.timer);
    this.tickers.clear();
  }
}
