import type { GraphQLResolveInfo } from 'graphql';
import type { WebSocket } from 'ws';
import type { Principal } from './auth/principal';
import type { ClientInfo } from './domain/client-address';
import type { ClientError } from './errors';
import type { Severity } from './domain/enums';
import type { Loaders } from './resolvers/loaders';
import type { EventQuery } from './store/event-queries';

/** What every resolver sees. Built per request (HTTP) or per connection (WebSocket). */
export interface GatewayContext {
  /** The verified caller, or null when no valid token was presented. */
  principal: Principal | null;
  /** Why the presented token was rejected, if one was: raised at the first protected field. */
  authError: ClientError | null;
  client: ClientInfo;
  /** DataLoaders of this request (this subscription, over WebSocket). */
  loaders: Loaders;
  /** Over WebSocket: the socket and the subscription id an operation answers on. */
  ws?: SocketTarget;
  /** Over WebSocket: the instance's stream hub, where subscriptions register. */
  hub?: SubscriptionHub;
}

export interface SocketTarget {
  socket: WebSocket;
  id: string;
}

/**
 * Where a subscription over WebSocket registers: the instance's stream hub. Each method returns
 * the subscription's iterator, which yields only its end; the hub writes the data itself.
 */
export interface SubscriptionHub {
  subscribeEvents(context: GatewayContext, info: GraphQLResolveInfo, filter: EventQuery, afterSeq: number | null): AsyncIterable<unknown>;
  subscribeAlerts(context: GatewayContext, info: GraphQLResolveInfo, minSeverity: Severity): AsyncIterable<unknown>;
  subscribeDashboard(context: GatewayContext, info: GraphQLResolveInfo, intervalSeconds: number): AsyncIterable<unknown>;
}
