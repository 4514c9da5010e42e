import type { GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context';
import { severityRank, type FraudAlertMessage } from '../domain/alerts';
import type { Severity } from '../domain/enums';
import { Lru } from '../domain/lru';
import type { Logger } from '../logger';
import type { Delivery } from './delivery';
import type { Subscriber } from './subscriber';
import type { SubscriptionRegistry } from './subscriptions';

interface AlertSubscriber extends Subscriber {
  minRank: number;
}

/** Alerts remembered so that one read again (from the topic after a rebalance, say) is sent once. */
const REMEMBERED_ALERTS = 10_000;

/** The `fraudAlertRaised` stream: each alert once, to the subscribers whose minimum severity it reaches. */
export class AlertStream {
  private readonly subscribers = new Set<AlertSubscriber>();
  private readonly seen = new Lru<string, true>(REMEMBERED_ALERTS);
  private stopped = false;

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly delivery: Delivery,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  subscribe(context: GatewayContext, info: GraphQLResolveInfo, minSeverity: Severity): AsyncIterable<unknown> {
    const holder: { sub?: AlertSubscriber } = {};
    const sub: AlertSubscriber = Object.assign(
      this.registry.open(context, info, () => this.subscribers.delete(holder.sub!)),
      { minRank: severityRank(minSeverity) },
    );
    holder.sub = sub;
    this.subscribers.add(sub);
    return sub.control;
  }

  publish(a: FraudAlertMessage): void {
    if (this.stopped || this.seen.get(a.alertId)) return;
    this.seen.set(a.alertId, true);
    const rank = severityRank(a.severity);
    const subs = [...this.subscribers].filter((s) => !s.ended && rank >= s.minRank);
    if (subs.length > 0) void this.delivery.toAll(subs, a).catch((err) => this.logger.error({ err }, 'alert delivery failed'));
  }

  stop(): void {
    this.stopped = true;
  }
}
