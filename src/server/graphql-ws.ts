import type { IncomingMessage } from 'node:http';
import { GraphQLError, validate, type DocumentNode } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { GatewayContext } from '../context';
import type { ClientInfo } from '../domain/client-address';
import { maskError, tooComplex, unauthenticated } from '../errors';
import type { GatewayServerOptions } from './gateway-options';
import { parseLimited, type QueryLimiter } from './query-limits';

type Extra = { socket: WebSocket; request: IncomingMessage; gateway?: GatewayContext; expiry?: NodeJS.Timeout };

/**
 * GraphQL over WebSocket (graphql-ws) on `wss`: the token is checked at connection_init and the
 * socket closed with 4403 when it expires; each subscription passes the query limits of HTTP.
 * @returns what ends the graphql-ws server
 */
export function serveGraphQLOverWebSocket(
  wss: WebSocketServer,
  options: GatewayServerOptions,
  limiter: QueryLimiter,
  clientInfo: (req: IncomingMessage) => ClientInfo,
): () => Promise<void> {
  const { verifier, metrics, createLoaders, hub, websocket, schema, development } = options;
  wss.on('connection', (ws: WebSocket) => {
    metrics.wsConnections.inc();
    ws.once('close', () => metrics.wsConnections.dec());
  });
  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      connectionInitWaitTimeout: 5_000,
      onConnect: (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        let gateway: GatewayContext;
        try {
          const principal = verifier.verifyHeader(typeof raw === 'string' ? raw : undefined);
          gateway = { principal, authError: null, client: clientInfo(ctx.extra.request), loaders: createLoaders() };
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden, before any connection_ack
        }
        ctx.extra.gateway = gateway;
        const socket = ctx.extra.socket;
        const ttl = gateway.principal!.expiresAt - Date.now();
        const expiry = setTimeout(() => {
          // Every subscription ends with UNAUTHENTICATED first, then the socket closes with 4403.
          hub?.endSocket(socket, unauthenticated('Token has expired.'));
          socket.close(CloseCode.Forbidden, 'Token expired');
        }, Math.max(0, ttl));
        expiry.unref();
        ctx.extra.expiry = expiry;
        socket.once('close', () => clearTimeout(expiry));
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const active = Object.keys(ctx.subscriptions).filter((k) => k !== id).length;
        if (active >= websocket.maxSubscriptionsPerConnection) {
          return [tooComplex(`At most ${websocket.maxSubscriptionsPerConnection} operations per connection.`)];
        }
        let document: DocumentNode;
        try {
          document = parseLimited(payload.query, limiter.limits);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Syntax error')];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const tooComplexErrors = limiter.check(document, payload.operationName, payload.variables);
        if (tooComplexErrors.length > 0) return [...tooComplexErrors];
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName };
      },
      // Fresh loaders per operation: a long subscription must not serve stale cached rows.
      context: (ctx, id) => ({ ...ctx.extra.gateway!, loaders: createLoaders(), ws: { socket: ctx.extra.socket, id }, hub }),
      onError: (_ctx, _id, _payload, errors) => {
        return errors.map((e) => {
          const masked = maskError(e.toJSON(), development);
          return Object.assign(Object.create(Object.getPrototypeOf(e)), e, masked, { toJSON: () => masked });
        });
      },
    },
    wss,
    websocket.keepAliveMs,
  );
  return async () => {
    await server.dispose();
  };
}
