import { TokenVerifier } from '../auth/jwt';
import { clientAddress } from '../domain/client-address';
import { RateLimiter } from '../domain/rate-limit';
import { DeviceDetector } from '../domain/user-agent';
import { ActivityRecorder, type RecorderDeps } from '../recording/recorder';
import { createLoaders } from '../resolvers/loaders';
import { buildGatewaySchema } from '../schema/build';
import { GatewayServer, type ReadinessCheck } from '../server/http-server';
import { restIngestHandler } from '../server/rest-ingest';
import type { StreamHub } from '../streaming/hub';
import type { RoleEnv } from './role-env';

export interface GatewayRoleOptions {
  /** Builds the recording pipeline; the benchmarks' reference gateways take parts of it out. */
  recorder?: (deps: RecorderDeps) => ActivityRecorder;
}

/**
 * The `gateway` role's serving side: the recording pipeline, the schema, and the HTTP and
 * WebSocket server on `PORT`, ready only while Kafka, the store and every check of `readiness`
 * (the roles running in threads of their own) answer.
 */
export async function startGatewayServer(env: RoleEnv, hub: StreamHub, options: GatewayRoleOptions = {}, readiness: ReadinessCheck[] = []): Promise<GatewayServer> {
  const { config, logger, metrics, store, admin, publisher, parts, processingLag } = env;
  const verifier = new TokenVerifier(config.jwt);
  const recorder = (options.recorder ?? ((deps: RecorderDeps) => new ActivityRecorder(deps)))({
    publisher,
    store,
    topic: config.kafka.topics.activity,
    limiter: new RateLimiter(config.limits.recordRatePerSecond, config.limits.recordBurst),
    devices: new DeviceDetector(),
    maxBatchSize: config.limits.maxBatchSize,
  });
  const schema = await buildGatewaySchema({ development: config.development, recorder, store, processingLag });
  const hops = config.trustProxyHops;
  const server = new GatewayServer({
    schema,
    verifier,
    metrics,
    logger,
    development: config.development,
    introspection: config.introspection,
    maxBodyBytes: config.limits.maxBodyBytes,
    maxQueryDepth: config.limits.maxQueryDepth,
    maxQueryCost: config.limits.maxQueryCost,
    maxQueryAliases: config.limits.maxQueryAliases,
    maxQueryDirectives: config.limits.maxQueryDirectives,
    maxQueryTokens: config.limits.maxQueryTokens,
    corsOrigins: config.corsOrigins,
    createLoaders: () => createLoaders(store),
    hub,
    websocket: config.websocket,
    clientInfo: (req) => ({
      ip: clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], hops),
      userAgent: req.headers['user-agent'] ?? null,
    }),
    routes: { 'POST /v1/events': restIngestHandler(verifier, recorder, config.limits.maxBatchSize) },
    readiness: [
      { name: 'kafka', check: () => admin.ping() },
      { name: 'store', check: () => store.ping() },
      ...readiness,
    ],
  });
  await server.start(config.port, config.host);
  parts.add('http server', () => server.stop());
  return server;
}
