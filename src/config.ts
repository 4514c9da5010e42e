/**
 * The gateway's configuration: the environment (CONTRACT.md section 6) parsed once into a typed,
 * frozen object. Nothing else in the code base reads `process.env`.
 */

import { cleanEnv } from 'envalid';
import { Severity } from './domain/enums';
import { brokerList, decimal, flag, integer, list, oneOf, postgresUrl, setOf, text, topicName } from './env-vars';
import { DEFAULT_THRESHOLDS, type FraudThresholds } from './fraud/rules';
import { COMPRESSIONS, type Compression } from './kafka/compression';

export type ProcessRole = 'gateway' | 'processor' | 'fraud';
export const PROCESS_ROLES: readonly ProcessRole[] = ['gateway', 'processor', 'fraud'];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type JwtConfig =
  | { algorithm: 'HS256'; secret: string; generated: boolean; issuer?: string; audience?: string }
  | { algorithm: 'RS256'; publicKey: string; issuer?: string; audience?: string };

export interface TopicNames {
  activity: string;
  processed: string;
  alerts: string;
  dlq: string;
}

export interface Config {
  nodeEnv: string;
  production: boolean;
  development: boolean;
  host: string;
  port: number;
  logLevel: LogLevel;
  roles: ReadonlySet<ProcessRole>;
  /** With the gateway role, the processor and fraud roles run in a thread of their own (ROLE_THREADS). */
  roleThreads: boolean;
  kafka: {
    brokers: string[];
    clientId: string;
    topics: TopicNames;
    partitions: number;
    /** Prefix of consumer group ids (lets several deployments share one cluster). */
    groupPrefix: string;
  };
  consumer: {
    /** How long a fetch waits for data, ms: the processing latency floor at low load. */
    maxWaitMs: number;
    /** Bytes a fetch waits for (up to maxWaitMs) before it returns: fewer, larger batches under load. */
    minBytes: number;
    /** Bytes fetched per partition at most: the batch size at high load. */
    maxBytesPerPartition: number;
    /** Partitions a consumer handles at once. */
    concurrency: number;
  };
  /** PostgreSQL URL; undefined means the embedded store (PGlite) in `pgliteDir`. */
  databaseUrl?: string;
  pgliteDir: string;
  jwt: JwtConfig;
  introspection: boolean;
  /** Extra origins allowed by CORS for browser clients; `*` allows any. */
  corsOrigins: string[];
  limits: Limits;
  /** Proxies in front of the gateway whose X-Forwarded-For is believed (0: none). */
  trustProxyHops: number;
  websocket: {
    maxConnections: number;
    maxSubscriptionsPerConnection: number;
    deflate: boolean;
    keepAliveMs: number;
    /** Bytes waiting on a socket beyond which its subscriber is ended with SLOW_CONSUMER. */
    maxBufferedBytes: number;
    /** Live events held for a subscriber catching up from the store, at most. */
    maxQueuedEvents: number;
    /** How long the fan-out waits for an out-of-order event before reading the gap from the store, ms. */
    gapMs: number;
  };
  fraud: FraudThresholds & { maxUsers: number; maxEventsPerUser: number };
  producer: {
    lingerMs: number;
    maxBatchRecords: number;
    timeoutMs: number;
    retries: number;
    /** Codec of every produce request, recording's and the processor's alike. */
    compression: Compression;
  };
}

export interface Limits {
  /** Largest HTTP request body, bytes. */
  maxBodyBytes: number;
  /** Most events in one recordActivities call or REST batch (contract: at most 500). */
  maxBatchSize: number;
  /** Events a user may record per second, sustained (0: unlimited). */
  recordRatePerSecond: number;
  /** Events a user may record at once before the sustained rate applies. */
  recordBurst: number;
  maxQueryDepth: number;
  maxQueryCost: number;
  /** Aliases, directives and lexical tokens one document may hold. */
  maxQueryAliases: number;
  maxQueryDirectives: number;
  maxQueryTokens: number;
}

/** A configuration problem: the message always names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const SEVERITIES: readonly Severity[] = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL];
const d = DEFAULT_THRESHOLDS;
const optional = { default: undefined };

/** Every variable the gateway reads, with its kind, range and default (docs/configuration.md). */
const VARIABLES = {
  NODE_ENV: text({ default: 'development' }),
  LOG_LEVEL: oneOf(LOG_LEVELS)({ default: 'info' }),
  HOST: text({ default: '0.0.0.0' }),
  PORT: integer(0, 65535)({ default: 4000 }),
  ROLES: setOf(PROCESS_ROLES)({ default: new Set(PROCESS_ROLES) }),
  ROLE_THREADS: flag({ default: true }),
  KAFKA_BROKERS: brokerList(optional),
  KAFKA_CLIENT_ID: text({ default: 'activity-gateway' }),
  KAFKA_ACTIVITY_TOPIC: topicName({ default: 'user-activities' }),
  KAFKA_PROCESSED_TOPIC: topicName({ default: 'user-activities.processed' }),
  KAFKA_ALERT_TOPIC: topicName({ default: 'fraud-alerts' }),
  KAFKA_DLQ_TOPIC: topicName({ default: 'user-activities.dlq' }),
  KAFKA_PARTITIONS: integer(1, 1000)({ default: 6 }),
  KAFKA_GROUP_PREFIX: text({ default: '' }),
  CONSUMER_MAX_WAIT_MS: integer(1, 30_000)({ default: 200 }),
  CONSUMER_MIN_BYTES: integer(1, 64 * 1024 * 1024)({ default: 1 }),
  CONSUMER_MAX_BYTES_PER_PARTITION: integer(1024, 256 * 1024 * 1024)({ default: 4 * 1024 * 1024 }),
  CONSUMER_CONCURRENCY: integer(1, 1000)({ default: 6 }),
  DATABASE_URL: postgresUrl(optional),
  PGLITE_DIR: text({ default: '.data/pglite' }),
  JWT_SECRET: text(optional),
  JWT_PUBLIC_KEY: text(optional),
  JWT_ISSUER: text(optional),
  JWT_AUDIENCE: text(optional),
  INTROSPECTION: flag(optional),
  CORS_ORIGINS: list({ default: [] }),
  MAX_BODY_BYTES: integer(1024, 64 * 1024 * 1024)({ default: 1024 * 1024 }),
  MAX_BATCH_SIZE: integer(1, 500)({ default: 500 }),
  RECORD_RATE_PER_SECOND: integer(0, 1_000_000)({ default: 100 }),
  RECORD_BURST: integer(1, 10_000_000)({ default: 1000 }),
  MAX_QUERY_DEPTH: integer(2, 100)({ default: 12 }),
  MAX_QUERY_COST: integer(10, 10_000_000)({ default: 20_000 }),
  MAX_QUERY_ALIASES: integer(1, 10_000)({ default: 50 }),
  MAX_QUERY_DIRECTIVES: integer(1, 10_000)({ default: 50 }),
  MAX_QUERY_TOKENS: integer(100, 1_000_000)({ default: 5_000 }),
  TRUST_PROXY_HOPS: integer(0, 10)({ default: 0 }),
  WS_MAX_CONNECTIONS: integer(1, 1_000_000)({ default: 20_000 }),
  WS_MAX_SUBSCRIPTIONS: integer(1, 1_000)({ default: 20 }),
  WS_DEFLATE: flag({ default: false }),
  WS_KEEPALIVE_MS: integer(1_000, 600_000)({ default: 30_000 }),
  SUBSCRIBER_MAX_BUFFERED_BYTES: integer(1024, 256 * 1024 * 1024)({ default: 1024 * 1024 }),
  SUBSCRIBER_MAX_QUEUED_EVENTS: integer(10, 1_000_000)({ default: 10_000 }),
  FANOUT_GAP_MS: integer(1, 10_000)({ default: 50 }),
  PRODUCER_LINGER_MS: integer(0, 1_000)({ default: 2 }),
  PRODUCER_MAX_BATCH: integer(1, 100_000)({ default: 2_000 }),
  PUBLISH_TIMEOUT_MS: integer(100, 120_000)({ default: 10_000 }),
  PRODUCER_RETRIES: integer(0, 20)({ default: 3 }),
  KAFKA_COMPRESSION: oneOf(COMPRESSIONS)({ default: 'none' }),
  FRAUD_VELOCITY_EVENTS: integer(2, 100_000)({ default: d.velocityEvents }),
  FRAUD_VELOCITY_WINDOW_SECONDS: integer(1, 86_400)({ default: d.velocityWindowMs / 1000 }),
  FRAUD_VELOCITY_SEVERITY: oneOf(SEVERITIES)({ default: d.velocitySeverity }),
  FRAUD_PURCHASE_COUNT: integer(2, 100_000)({ default: d.purchaseCount }),
  FRAUD_PURCHASE_WINDOW_SECONDS: integer(1, 86_400)({ default: d.purchaseWindowMs / 1000 }),
  FRAUD_PURCHASE_SEVERITY: oneOf(SEVERITIES)({ default: d.purchaseSeverity }),
  FRAUD_HIGH_VALUE: decimal(0, 1e12)({ default: d.highValueAbsolute }),
  FRAUD_HIGH_VALUE_MULTIPLE: decimal(1, 1e6)({ default: d.highValueMultiple }),
  FRAUD_HIGH_VALUE_MIN_HISTORY: integer(1, 10_000)({ default: d.highValueMinHistory }),
  FRAUD_HIGH_VALUE_FLOOR: decimal(0, 1e12)({ default: d.highValueFloor }),
  FRAUD_HIGH_VALUE_SEVERITY: oneOf(SEVERITIES)({ default: d.highValueSeverity }),
  FRAUD_DISTINCT_IPS: integer(2, 10_000)({ default: d.distinctIps }),
  FRAUD_IP_WINDOW_SECONDS: integer(1, 86_400)({ default: d.ipWindowMs / 1000 }),
  FRAUD_IP_SEVERITY: oneOf(SEVERITIES)({ default: d.ipSeverity }),
  FRAUD_GEO_JUMP_SECONDS: integer(1, 7 * 86_400)({ default: d.geoJumpMs / 1000 }),
  FRAUD_GEO_SEVERITY: oneOf(SEVERITIES)({ default: d.geoSeverity }),
  FRAUD_MAX_USERS: integer(1, 100_000_000)({ default: 100_000 }),
  FRAUD_MAX_EVENTS_PER_USER: integer(10, 1_000_000)({ default: 2_000 }),
};

type Parsed = ReturnType<typeof parseVariables>;

/** Every variable parsed at once; a blank value counts as unset. @throws ConfigError naming the first bad one. */
function parseVariables(env: Env) {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') present[name] = value.trim();
  }
  return cleanEnv(present, VARIABLES, {
    reporter: ({ errors }) => {
      const bad = Object.entries(errors).filter(([, e]) => e !== undefined);
      if (bad.length === 0) return;
      const [variable, first] = bad[0]!;
      const others = bad.slice(1).map(([name, e]) => `; ${name}: ${e!.message}`).join('');
      throw new ConfigError(variable, `${first!.message}${others}`);
    },
  });
}

/** Generates a development HS256 secret: random, process-local, never used in production. */
export type SecretGenerator = () => string;

function jwtConfig(v: Parsed, production: boolean, generateSecret: SecretGenerator): JwtConfig {
  const { JWT_SECRET: secret, JWT_PUBLIC_KEY: publicKey, JWT_ISSUER: issuer, JWT_AUDIENCE: audience } = v;
  if (secret !== undefined && publicKey !== undefined) {
    throw new ConfigError('JWT_SECRET', 'set only one of JWT_SECRET (HS256) and JWT_PUBLIC_KEY (RS256)');
  }
  if (publicKey !== undefined) {
    const pem = publicKey.replace(/\\n/g, '\n');
    if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem)) throw new ConfigError('JWT_PUBLIC_KEY', 'expected a PEM-encoded RSA public key');
    return { algorithm: 'RS256', publicKey: pem, issuer, audience };
  }
  if (secret !== undefined) {
    if (production && Buffer.byteLength(secret) < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes in production');
    return { algorithm: 'HS256', secret, generated: false, issuer, audience };
  }
  if (production) throw new ConfigError('JWT_SECRET', 'is required in production (or JWT_PUBLIC_KEY for RS256)');
  return { algorithm: 'HS256', secret: generateSecret(), generated: true, issuer, audience };
}

/**
 * Parses the environment into a Config.
 * @throws ConfigError naming the first variable that is missing or malformed.
 */
export function loadConfig(env: Env, generateSecret: SecretGenerator): Config {
  const v = parseVariables(env);
  const nodeEnv = v.NODE_ENV;
  const production = nodeEnv === 'production';
  if (production && v.KAFKA_BROKERS === undefined) throw new ConfigError('KAFKA_BROKERS', 'is required in production');
  const topics: TopicNames = {
    activity: v.KAFKA_ACTIVITY_TOPIC,
    processed: v.KAFKA_PROCESSED_TOPIC,
    alerts: v.KAFKA_ALERT_TOPIC,
    dlq: v.KAFKA_DLQ_TOPIC,
  };
  if (new Set(Object.values(topics)).size !== 4) throw new ConfigError('KAFKA_DLQ_TOPIC', 'the four topic names must differ');

  const config: Config = {
    nodeEnv,
    production,
    development: nodeEnv === 'development',
    host: v.HOST,
    port: v.PORT,
    logLevel: v.LOG_LEVEL,
    roles: v.ROLES,
    roleThreads: v.ROLE_THREADS,
    kafka: {
      brokers: v.KAFKA_BROKERS ?? ['localhost:9092'],
      clientId: v.KAFKA_CLIENT_ID,
      topics,
      partitions: v.KAFKA_PARTITIONS,
      groupPrefix: v.KAFKA_GROUP_PREFIX,
    },
    consumer: {
      maxWaitMs: v.CONSUMER_MAX_WAIT_MS,
      minBytes: v.CONSUMER_MIN_BYTES,
      maxBytesPerPartition: v.CONSUMER_MAX_BYTES_PER_PARTITION,
      concurrency: v.CONSUMER_CONCURRENCY,
    },
    databaseUrl: v.DATABASE_URL,
    pgliteDir: v.PGLITE_DIR,
    jwt: jwtConfig(v, production, generateSecret),
    introspection: v.INTROSPECTION ?? !production,
    corsOrigins: v.CORS_ORIGINS,
    limits: {
      maxBodyBytes: v.MAX_BODY_BYTES,
      maxBatchSize: v.MAX_BATCH_SIZE,
      recordRatePerSecond: v.RECORD_RATE_PER_SECOND,
      recordBurst: v.RECORD_BURST,
      maxQueryDepth: v.MAX_QUERY_DEPTH,
      maxQueryCost: v.MAX_QUERY_COST,
      maxQueryAliases: v.MAX_QUERY_ALIASES,
      maxQueryDirectives: v.MAX_QUERY_DIRECTIVES,
      maxQueryTokens: v.MAX_QUERY_TOKENS,
    },
    trustProxyHops: v.TRUST_PROXY_HOPS,
    websocket: {
      maxConnections: v.WS_MAX_CONNECTIONS,
      maxSubscriptionsPerConnection: v.WS_MAX_SUBSCRIPTIONS,
      deflate: v.WS_DEFLATE,
      keepAliveMs: v.WS_KEEPALIVE_MS,
      maxBufferedBytes: v.SUBSCRIBER_MAX_BUFFERED_BYTES,
      maxQueuedEvents: v.SUBSCRIBER_MAX_QUEUED_EVENTS,
      gapMs: v.FANOUT_GAP_MS,
    },
    fraud: {
      velocityEvents: v.FRAUD_VELOCITY_EVENTS,
      velocityWindowMs: v.FRAUD_VELOCITY_WINDOW_SECONDS * 1000,
      velocitySeverity: v.FRAUD_VELOCITY_SEVERITY,
      purchaseCount: v.FRAUD_PURCHASE_COUNT,
      purchaseWindowMs: v.FRAUD_PURCHASE_WINDOW_SECONDS * 1000,
      purchaseSeverity: v.FRAUD_PURCHASE_SEVERITY,
      highValueAbsolute: v.FRAUD_HIGH_VALUE,
      highValueMultiple: v.FRAUD_HIGH_VALUE_MULTIPLE,
      highValueMinHistory: v.FRAUD_HIGH_VALUE_MIN_HISTORY,
      highValueFloor: v.FRAUD_HIGH_VALUE_FLOOR,
      highValueSeverity: v.FRAUD_HIGH_VALUE_SEVERITY,
      distinctIps: v.FRAUD_DISTINCT_IPS,
      ipWindowMs: v.FRAUD_IP_WINDOW_SECONDS * 1000,
      ipSeverity: v.FRAUD_IP_SEVERITY,
      geoJumpMs: v.FRAUD_GEO_JUMP_SECONDS * 1000,
      geoSeverity: v.FRAUD_GEO_SEVERITY,
      maxUsers: v.FRAUD_MAX_USERS,
      maxEventsPerUser: v.FRAUD_MAX_EVENTS_PER_USER,
    },
    producer: {
      lingerMs: v.PRODUCER_LINGER_MS,
      maxBatchRecords: v.PRODUCER_MAX_BATCH,
      timeoutMs: v.PUBLISH_TIMEOUT_MS,
      retries: v.PRODUCER_RETRIES,
      compression: v.KAFKA_COMPRESSION,
    },
  };
  return Object.freeze(config);
}
