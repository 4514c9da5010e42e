import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import cors from 'cors';
import { GraphQLError, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import getRawBody from 'raw-body';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenVerifier } from '../auth/jwt';
import type { ClientInfo, GatewayContext } from '../context';
import { ClientError, maskError, tooComplex, unauthenticated } from '../errors';
import type { Logger } from '../logger';
import type { Loaders } from '../resolvers/loaders';
import type { StreamHub } from '../streaming/hub';
import type { Metrics } from './metrics';
import {
  DEFAULT_MAX_QUERY_ALIASES,
  DEFAULT_MAX_QUERY_DIRECTIVES,
  DEFAULT_MAX_QUERY_TOKENS,
  parseLimited,
  parseOptionsFor,
  QueryLimiter,
  tokenLimitError,
} from './query-limits';

/** A readiness check: resolves when the dependency answers. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** A plain HTTP route beside GraphQL (REST ingestion, pages). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => Promise<void> | void;
export interface RouteContext {
  client: ClientInfo;
  readBody(): Promise<Buffer>;
}

export interface GatewayServerOptions {
  schema: GraphQLSchema;
  verifier: TokenVerifier;
  metrics: Metrics;
  logger: Logger;
  readiness: ReadinessCheck[];
  development: boolean;
  introspection: boolean;
  /** Largest request body accepted, bytes; larger gets 413. */
  maxBodyBytes: number;
  corsOrigins: string[];
  validationRules?: ValidationRule[];
  /** Bounds on an operation (QUERY_TOO_COMPLEX past them), the same over HTTP and WebSocket. */
  maxQueryDepth: number;
  maxQueryCost: number;
  maxQueryAliases?: number;
  maxQueryDirectives?: number;
  maxQueryTokens?: number;
  /** Extra routes by `METHOD /path`. */
  routes?: Record<string, RouteHandler>;
  /** Makes the DataLoaders of one request. */
  createLoaders: () => Loaders;
  /** Fan-out of live data to this instance's subscribers. */
  hub?: StreamHub;
  websocket: {
    maxConnections: number;
    maxSubscriptionsPerConnection: number;
    /** permessage-deflate: off by default (it costs CPU per message and memory per socket). */
    deflate: boolean;
    /** Keep-alive ping interval, ms. */
    keepAliveMs: number;
  };
  /** Resolves the client's address and agent from a request (trusted-proxy aware). */
  clientInfo?: (req: IncomingMessage) => ClientInfo;
}

export class PayloadTooLargeError extends Error {}

/** Reads a body up to `limit` bytes. @throws PayloadTooLargeError past the limit. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await getRawBody(req, { limit, length: req.headers['content-length'] });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') {
      // Drained, not paused, so the 413 that follows reaches a client still sending.
      req.resume();
      throw new PayloadTooLargeError((err as Error).message);
    }
    throw err;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function defaultClientInfo(req: IncomingMessage): ClientInfo {
  return { ip: req.socket.remoteAddress ?? null, userAgent: req.headers['user-agent'] ?? null };
}

const GRAPHQL_PATH = '/graphql';
const DEFAULT_GRACE_MS = 5_000;

/**
 * Apollo Server and graphql-ws on one node:http server. Apollo is driven through
 * `executeHTTPGraphQLRequest` directly (no Express): on this stack Express alone halves
 * throughput. Also serves /health, /ready and /metrics, and the extra routes given.
 */
export class GatewayServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly apollo: ApolloServer<GatewayContext>;
  private readonly cors: ReturnType<typeof cors<IncomingMessage>>;
  private graceMs = DEFAULT_GRACE_MS;
  private wsDispose: (() => Promise<void> | void) | undefined;
  private readonly log: Logger;
  private readonly clientInfo: (req: IncomingMessage) => ClientInfo;
  private readonly limiter: QueryLimiter;
  private stopping = false;

  constructor(private readonly options: GatewayServerOptions) {
    this.log = options.logger.child({ component: 'http' });
    this.clientInfo = options.clientInfo ?? defaultClientInfo;
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

    const development = options.development;
    const log = this.log;
    const maskingPlugin: ApolloServerPlugin<GatewayContext> = {
      async requestDidStart() {
        return {
          async didEncounterErrors({ errors }) {
            for (const e of errors) {
              if (!(e.originalError instanceof ClientError) && !e.extensions?.code) {
                log.error({ err: e.originalError ?? e, path: e.path }, 'unexpected error in a GraphQL operation');
              }
            }
          },
        };
      },
    };
    const limiter = new QueryLimiter(options.schema, {
      maxDepth: options.maxQueryDepth,
      maxCost: options.maxQueryCost,
      maxAliases: options.maxQueryAliases ?? DEFAULT_MAX_QUERY_ALIASES,
      maxDirectives: options.maxQueryDirectives ?? DEFAULT_MAX_QUERY_DIRECTIVES,
      maxTokens: options.maxQueryTokens ?? DEFAULT_MAX_QUERY_TOKENS,
    });
    this.limiter = limiter;
    // Cost reads the variables, which Apollo's validation rules never see: the limits run once
    // the operation is known, with the request's variables.
    const limitsPlugin: ApolloServerPlugin<GatewayContext> = {
      async requestDidStart() {
        return {
          async didResolveOperation({ operation, document, request }) {
            if (!operation) return;
            const errors = limiter.check(document, request.operationName, request.variables);
            if (errors.length > 0) throw errors[0];
          },
        };
      },
    };
    this.apollo = new ApolloServer<GatewayContext>({
      schema: options.schema,
      introspection: options.introspection,
      includeStacktraceInErrorResponses: development,
      parseOptions: parseOptionsFor(limiter.limits),
      formatError: (formatted, error) => {
        // graphql-js stops parsing at the token limit with a syntax error; it is a limit like the others.
        const tooMany = formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' && error instanceof GraphQLError ? tokenLimitError(error, limiter.limits) : undefined;
        if (tooMany) return { message: tooMany.message, extensions: { code: tooMany.code } };
        return maskError(formatted, development);
      },
      validationRules: options.validationRules ?? [],
      // No cache hints are used (every answer is per user); without the cache-control plugin
      // Apollo does not wrap each field's resolver to collect them.
      plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), drain, limitsPlugin, maskingPlugin],
    });
  }

  /** The bound port (after start). */
  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  async start(port: number, host: string): Promise<void> {
    await this.apollo.start();
    this.startWebSockets();
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
    const drained = this.apollo.stop();
    await this.wsDispose?.();
    await drained;
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private startWebSockets(): void {
    const { verifier, metrics, createLoaders, hub, websocket, schema } = this.options;
    const limiter = this.limiter;
    const clientInfo = this.clientInfo;
    type Extra = { socket: WebSocket; request: IncomingMessage; gateway?: GatewayContext; expiry?: NodeJS.Timeout };
    this.wss.on('connection', (ws: WebSocket) => {
      metrics.wsConnections.inc();
      ws.once('close', () => metrics.wsConnections.dec());
    });
    const server = useServer<Record<string, unknown> | undefined, Extra>(
      {
        schema: this.options.schema,
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
            const masked = maskError(e.toJSON(), this.options.development);
            return Object.assign(Object.create(Object.getPrototypeOf(e)), e, masked, { toJSON: () => masked });
          });
        },
      },
      this.wss,
      websocket.keepAliveMs,
    );
    this.wsDispose = () => server.dispose();
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
        await this.graphql(req, res, method, search);
      } else if (method === 'GET' && path === '/health') {
        sendJson(res, 200, { status: 'ok' });
      } else if (method === 'GET' && path === '/ready') {
        await this.ready(res);
      } else if (method === 'GET' && path === '/metrics') {
        const text = await this.options.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.options.metrics.registry.contentType });
        res.end(text);
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

  private async ready(res: ServerResponse): Promise<void> {
    const results = await Promise.all(
      this.options.readiness.map(async (c) => {
        try {
          await c.check();
          return [c.name, 'ok'] as const;
        } catch (err) {
          return [c.name, `unavailable: ${(err as Error).message}`] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ok = results.every(([, v]) => v === 'ok') && !this.stopping;
    sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks });
  }

  private async graphql(req: IncomingMessage, res: ServerResponse, method: string, search: string): Promise<void> {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown = undefined;
    if (method === 'POST') {
      const raw = await readBody(req, this.options.maxBodyBytes);
      const type = headers.get('content-type') ?? '';
      if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) {
        try {
          body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
        } catch {
          sendJson(res, 400, { errors: [{ message: 'Request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
          return;
        }
      } else {
        body = raw.toString('utf8');
      }
    }
    const context = this.contextFor(req);
    const response = await this.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: method.toUpperCase(), headers, search, body },
      context: async () => context,
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.setHeader('content-length', Buffer.byteLength(response.body.string));
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  private contextFor(req: IncomingMessage): GatewayContext {
    const client = this.clientInfo(req);
    const loaders = this.options.createLoaders();
    const header = req.headers.authorization;
    if (header === undefined) return { principal: null, authError: null, client, loaders };
    try {
      return { principal: this.options.verifier.verifyHeader(header), authError: null, client, loaders };
    } catch (err) {
      if (err instanceof ClientError) return { principal: null, authError: err, client, loaders };
      throw err;
    }
  }
}
