import type { GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context';
import type { Logger } from '../logger';
import type { Queryable } from '../store';
import { dashboardAt, type DashboardData } from '../store/dashboard-queries';
import type { Delivery } from './delivery';
import type { Subscriber } from './subscriber';
import type { SubscriptionRegistry } from './subscriptions';

interface Ticker {
  timer: NodeJS.Timeout;
  subscribers: Set<Subscriber>;
  latest?: DashboardData;
  computing?: Promise<DashboardData>;
}

export interface DashboardTickerOptions {
  store: Queryable;
  logger: Logger;
  /** Every dashboard snapshot computed, for metrics. */
  onSnapshot?: () => void;
  /** Events recorded but not yet processed; without it, snapshots say it is unknown. */
  processingLag?: () => Promise<number | null>;
  now?: () => Date;
}

/**
 * The `dashboardUpdated` stream: one timer and one snapshot per interval per instance, however
 * many subscribe to it; a new subscriber gets the latest snapshot at once.
 */
export class DashboardTicker {
  private readonly tickers = new Map<number, Ticker>();

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly delivery: Delivery,
    private readonly o: DashboardTickerOptions,
  ) {}

  get size(): number {
    let n = 0;
    for (const t of this.tickers.values()) n += t.subscribers.size;
    return n;
  }

  /** Intervals with a timer running. */
  get intervals(): number {
    return this.tickers.size;
  }

  subscribe(context: GatewayContext, info: GraphQLResolveInfo, intervalSeconds: number): AsyncIterable<unknown> {
    let ticker = this.tickers.get(intervalSeconds);
    if (!ticker) {
      const timer = setInterval(() => void this.tick(intervalSeconds), intervalSeconds * 1000);
      timer.unref();
      ticker = { timer, subscribers: new Set() };
      this.tickers.set(intervalSeconds, ticker);
    }
    const t = ticker;
    const holder: { sub?: Subscriber } = {};
    const sub = this.registry.open(context, info, () => {
      if (!t.subscribers.delete(holder.sub!) || t.subscribers.size > 0) return;
      clearInterval(t.timer);
      if (this.tickers.get(intervalSeconds) === t) this.tickers.delete(intervalSeconds);
    });
    holder.sub = sub;
    t.subscribers.add(sub);
    void (async () => {
      try {
        const snapshot = t.latest ?? (await this.snapshot(t));
        await this.delivery.toAll([sub], snapshot);
      } catch (err) {
        this.o.logger.warn({ err: (err as Error).message }, 'first dashboard snapshot failed');
      }
    })();
    return sub.control;
  }

  stop(): void {
    for (const t of this.tickers.values()) clearInterval(t.timer);
    this.tickers.clear();
  }

  private snapshot(t: Ticker): Promise<DashboardData> {
    if (!t.computing) {
      this.o.onSnapshot?.();
      t.computing = dashboardAt(this.o.store, (this.o.now ?? (() => new Date()))(), this.o.processingLag).then(
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

  private async tick(intervalSeconds: number): Promise<void> {
    const t = this.tickers.get(intervalSeconds);
    if (!t || t.subscribers.size === 0) return;
    try {
      const snapshot = await this.snapshot(t);
      await this.delivery.toAll([...t.subscribers].filter((s) => !s.ended), snapshot);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'dashboard snapshot failed');
    }
  }
}
