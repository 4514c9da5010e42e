import type { ProcessedEventMessage } from '../domain/processed-event';
import type { GraphQLResolveInfo } from 'graphql';
import type WebSocket from 'ws';
import type { GatewayContext, SubscriptionHub } from '../context';
import type { FraudAlertMessage } from '../domain/alerts';
import type { Severity } from '../domain/enums';
import type { ClientError } from '../errors';
import type { Logger } from '../logger';

import type { Loaders } from '../resolvers/loaders';
import type { Queryable } from '../store';
import type { EventQuery } from '../store/event-queries';
import { AlertStream } from './alert-stream';
import { DashboardTicker } from './dashboard-ticker';
import { Delivery } from './delivery';
import { EventStream } from './event-stream';
import { SocketOutbox } from './frames';
import { Selections } from './selections';
import { SubscriptionRegistry } from './subscriptions';

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
  /** Events recorded but not yet processed, for dashboard snapshots; without it, that is unknown. */
  processingLag?: () => Promise<number | null>;
  now?: () => Date;
}

/**
 * Fan-out of processed events, fraud alerts and dashboard snapshots to the graphql-ws
 * subscribers of this instance. Subscribers are filtered before any GraphQL work; the survivors
 * are grouped by selection, each group's payload is executed and serialized once, and what a
 * socket gets in one turn leaves in one write (`SocketOutbox`).
 */
export class StreamHub implements SubscriptionHub {
  private readonly outbox: SocketOutbox;
  private readonly selections = new Selections();
  private readonly registry: SubscriptionRegistry;
  private readonly events: EventStream;
  private readonly alerts: AlertStream;
  private readonly dashboards: DashboardTicker;

  constructor(o: HubOptions) {
    const logger = o.logger.child({ component: 'hub' });
    this.outbox = new SocketOutbox(o.onWrites);
    this.registry = new SubscriptionRegistry(this.outbox, this.selections, o.development);
    const delivery = new Delivery(this.outbox, this.registry, o);
    this.events = new EventStream(this.registry, delivery, { ...o, logger });
    this.alerts = new AlertStream(this.registry, delivery, logger);
    this.dashboards = new DashboardTicker(this.registry, delivery, { ...o, logger });
  }

  /** Distinct selections among live subscriptions. */
  get selectionCount(): number {
    return this.selections.size;
  }

  get subscriberCount(): number {
    return this.events.size + this.alerts.size + this.dashboards.size;
  }

  /** How many dashboard snapshots are computed per interval (for tests and metrics). */
  tickerCount(): number {
    return this.dashboards.intervals;
  }

  subscribeEvents(context: GatewayContext, info: GraphQLResolveInfo, filter: EventQuery, afterSeq: number | null): AsyncIterable<unknown> {
    return this.events.subscribe(context, info, filter, afterSeq);
  }

  subscribeAlerts(context: GatewayContext, info: GraphQLResolveInfo, minSeverity: Severity): AsyncIterable<unknown> {
    return this.alerts.subscribe(context, info, minSeverity);
  }

  /** A dashboard subscriber gets the latest snapshot now, then one every interval. */
  subscribeDashboard(context: GatewayContext, info: GraphQLResolveInfo, intervalSeconds: number): AsyncIterable<unknown> {
    return this.dashboards.subscribe(context, info, intervalSeconds);
  }

  publishEvent(e: ProcessedEventMessage): void {
    this.events.publish(e);
  }

  publishAlert(a: FraudAlertMessage): void {
    this.alerts.publish(a);
  }

  /** Ends every subscription of a socket with `error`, on the wire before the caller closes it. */
  endSocket(socket: WebSocket, error: ClientError): void {
    this.registry.endSocket(socket, error);
  }

  stop(): void {
    this.events.stop();
    this.alerts.stop();
    this.outbox.flushAll();
    this.dashboards.stop();
  }
}
