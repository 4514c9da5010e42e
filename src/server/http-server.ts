import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import cors from 'cors';
import { WebSocketServer } from 'ws';
import type { ClientInfo } from '../domain/client-address';
import type { Logger } from '../logger';
import { queryLimitsOf, type GatewayServerOptions } from './gateway-options';
import { GraphQLOverHttp } from './graphql-http';
import { serveGraphQLOverWebSocket } from './graphql-ws';
import { sendHealth, sendMetrics, sendReadiness } from './health';
import { PayloadTooLargeError, readBody, sendJson, socketClientInfo } from './http-io';
import { QueryLimiter } from './query-limits';

export type { GatewayServerOptions, ReadinessCheck, RouteContext, RouteHandler } from './gateway-options';
export { PayloadTooLargeError, readBody, sendJson } from './http-io';

const GRAPHQL_PATH = '/graphql';
const DEFAULT_GRACE_MS = 5_000;

/**
 * One node:http server for the gateway: GraphQL over HTTP and over WebSocket on /graphql,
 * /health, /ready and /metrics, and the extra routes given; CORS and shutdown.
 */
export class GatewayServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly graphqlHttp: GraphQLOverHttp;
  private readonly limiter: QueryLimiter;
  private readonly cors: ReturnType<typeof cors<IncomingMessage>>;
  private graceMs = DEFAULT_GRACE_MS;
  private wsDispose: (() => Promise<void>) | undefined;
  private readonly log: Logger;
  private readonly clientInfo: (req: IncomingMessage) => ClientInfo;
  private stopping = false;

  constructor(private readonly options: GatewayServerOptions) {
    this.log = options.logger.child({ component: 'http' });
    this.clientInfo = options.clientInfo ?? socketClientInfo;
    this.http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.handle(req, res));
    const self = this;
    // Apollo's drain stops accepting, ends keep-alive sockets as their last response leaves and
    // drops the rest once the grace period of the current stop() has passed (read when draining).
    const drain = ApolloServerPluginDrainHttpServer({
      httpServer: this.http,
      get stopGracePeriodMillis() {
        return self.graceMs;
      },
    });
    const any = options.corsOrigins.includes('*');
    this.cors = cors<IncomingMessage>((req, allow) => {
      const origin = req.headers.origin;
      if (!origin || !(any || options.corsOrigins.includes(origin))) return allow(null, { origin: false });
      allow(null, {
        origin: any ? '*' : origin,
        methods: 'GET, POST, OPTIONS',
        allowedHeaders: 'authorization, content-type, apollo-require-preflight',
        maxAge: 600,
        optionsSuccessStatus: 204,
      });
    });
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: options.websocket.deflate, maxPayload: options.maxBodyBytes });
    this.http.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== GRAPHQL_PATH || this.stopping) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      if (this.wss.clients.size >= options.websocket.maxConnections) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
    });
    // One limiter, so HTTP and WebSocket operations meet the same rules.
    this.limiter = new QueryLimiter(options.schema, queryLimitsOf(options));
    this.graphqlHttp = new GraphQLOverHttp({ ...options, clientInfo: this.clientInfo }, this.limiter, [drain]);
  }

  /** The bound port (after start). */
  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  async start(port: number, host: string): Promise<void> {
    await this.graphqlHttp.start();
    this.wsDispose = serveGraphQLOverWebSocket(this.wss, this.options, this.limiter, this.clientInfo);
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.log.info({ port: this.port, host }, 'listening');
  }

  /**
   * Stops accepting, closes WebSockets with 1001 (going away), lets in-flight HTTP requests
   * finish within `graceMs`, then drops what remains.
   */
  async stop(graceMs = DEFAULT_GRACE_MS): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.graceMs = graceMs;
    // The close frames are queued before the drain ends the sockets they travel on.
    for (const ws of this.wss.clients) ws.close(1001, 'Server shutting down');
    const drained = this.graphqlHttp.stop();
    await this.wsDispose?.();
    await drained;
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const [path = '/', search = ''] = (req.url ?? '/').split(/\?(.*)/s);
    const method = req.method ?? 'GET';
    let route = path;
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.options.metrics.httpDuration.observe({ method, route, status: String(res.statusCode) }, seconds);
    });
    try {
      if (await this.applyCors(req, res)) return;
      if (path === GRAPHQL_PATH) {
        await this.graphqlHttp.handle(req, res, method, search);
      } else if (method === 'GET' && path === '/health') {
        sendHealth(res);
      } else if (method === 'GET' && path === '/ready') {
        await sendReadiness(res, this.options.readiness, this.stopping);
      } else if (method === 'GET' && path === '/metrics') {
        await sendMetrics(res, this.options.metrics);
      } else {
        const handler = this.options.routes?.[`${method} ${path}`];
        if (handler) {
          await handler(req, res, {
            client: this.clientInfo(req),
            readBody: () => readBody(req, this.options.maxBodyBytes),
          });
        } else {
          route = 'unknown';
          sendJson(res, 404, { error: 'not found' });
        }
      }
    } catch (err) {
      if (err instanceof PayloadTooLargeError) {
        sendJson(res, 413, { error: 'payload too large', maxBytes: this.options.maxBodyBytes }, { connection: 'close' });
        return;
      }
      this.log.error({ err, path }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  }

  /** Adds CORS headers for an allowed origin and answers its preflight; true when that answered the request. */
  private applyCors(req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean> {
    if (req.headers.origin === undefined) return false;
    return new Promise<boolean>((resolve, reject) => {
      res.once('finish', () => resolve(true));
      this.cors(req, res, (err?: unknown) => (err ? reject(err) : resolve(false)));
    });
  }
}
