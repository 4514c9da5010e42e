import type { WebSocket } from 'ws';
import type { Principal } from './auth/principal';
import type { ClientError } from './errors';
import type { Loaders } from './resolvers/loaders';
import type { StreamHub } from './streaming/hub';

/** Where a request came from, as far as the gateway can tell. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

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
  hub?: StreamHub;
}

export interface SocketTarget {
  socket: WebSocket;
  id: string;
}
