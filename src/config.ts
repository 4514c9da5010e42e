/**
 * The gateway's configuration: the environment (CONTRACT.md section 6) parsed once into a typed,
 * frozen object. Nothing else in the code base reads `process.env`.
 */

import { DEFAULT_THRESHOLDS, type FraudThresholds } from './fraud/rules';
import { Severity } from './domain/enums';

export type ProcessRole = 'gateway' | 'processor' | 'fraud';
export const PROCESS_ROLES: readonly ProcessRole[] = ['gateway', 'processor', 'fraud'];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Reads an integer in [min, max]; anything else is a ConfigError naming the variable. */
export function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
function topicVar(env: Env, name: string, fallback: string): string {
  const t = str(env, name, fallback);
  if (!TOPIC_NAME.test(t) || t === '.' || t === '..') {
    throw new ConfigError(name, `"${t}" is not a legal Kafka topic name (letters, digits, '.', '_', '-')`);
  }
  return t;
}

function parseBrokers(raw: string): string[] {
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) throw new ConfigError('KAFKA_BROKERS', 'is empty');
  for (const b of brokers) {
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new ConfigError('KAFKA_BROKERS', `"${b}" is not host:port`);
    }
  }
  return brokers;
}

function parseRoles(raw: string | undefined): Set<ProcessRole> {
  if (raw === undefined) return new Set(PROCESS_ROLES);
  const roles = new Set<ProcessRole>();
  for (const part of raw.split(',').map((r) => r.trim()).filter((r) => r !== '')) {
    if (!(PROCESS_ROLES as readonly string[]).includes(part)) {
      throw new ConfigError('ROLES', `unknown role "${part}" (expected ${PROCESS_ROLES.join(', ')})`);
    }
    roles.add(part as ProcessRole);
  }
  if (roles.size === 0) throw new ConfigError('ROLES', 'names no role');
  return roles;
}

function parseDatabaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL (expected postgres://user@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `expected a postgres:// URL, got ${url.protocol}//`);
  }
  return raw;
}

const SEVERITIES: readonly Severity[] = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL];
function severityVar(env: Env, name: string, fallback: Severity): Severity {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const v = raw.toUpperCase();
  if (!(SEVERITIES as readonly string[]).includes(v)) throw new ConfigError(name, `expected one of ${SEVERITIES.join(', ')}, got "${raw}"`);
  return v as Severity;
}

function numberVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(name, `expected a number between ${min} and ${max}, got "${raw}"`);
  return n;
}

/** The fraud rules' thresholds (FRAUD_*), defaults in src/fraud/rules.ts. */
function parseFraud(env: Env): Config['fraud'] {
  const d = DEFAULT_THRESHOLDS;
  return {
    velocityEvents: intVar(env, 'FRAUD_VELOCITY_EVENTS', d.velocityEvents, 2, 100_000),
    velocityWindowMs: intVar(env, 'FRAUD_VELOCITY_WINDOW_SECONDS', d.velocityWindowMs / 1000, 1, 86_400) * 1000,
    velocitySeverity: severityVar(env, 'FRAUD_VELOCITY_SEVERITY', d.velocitySeverity),
    purchaseCount: intVar(env, 'FRAUD_PURCHASE_COUNT', d.purchaseCount, 2, 100_000),
    purchaseWindowMs: intVar(env, 'FRAUD_PURCHASE_WINDOW_SECONDS', d.purchaseWindowMs / 1000, 1, 86_400) * 1000,
    purchaseSeverity: severityVar(env, 'FRAUD_PURCHASE_SEVERITY', d.purchaseSeverity),
    highValueAbsolute: numberVar(env, 'FRAUD_HIGH_VALUE', d.highValueAbsolute, 0, 1e12),
    highValueMultiple: numberVar(env, 'FRAUD_HIGH_VALUE_MULTIPLE', d.highValueMultiple, 1, 1e6),
    highValueMinHistory: intVar(env, 'FRAUD_HIGH_VALUE_MIN_HISTORY', d.highValueMinHistory, 1, 10_000),
    highValueFloor: numberVar(env, 'FRAUD_HIGH_VALUE_FLOOR', d.highValueFloor, 0, 1e12),
    highValueSeverity: severityVar(env, 'FRAUD_HIGH_VALUE_SEVERITY', d.highValueSeverity),
    distinctIps: intVar(env, 'FRAUD_DISTINCT_IPS', d.distinctIps, 2, 10_000),
    ipWindowMs: intVar(env, 'FRAUD_IP_WINDOW_SECONDS', d.ipWindowMs / 1000, 1, 86_400) * 1000,
    ipSeverity: severityVar(env, 'FRAUD_IP_SEVERITY', d.ipSeverity),
    geoJumpMs: intVar(env, 'FRAUD_GEO_JUMP_SECONDS', d.geoJumpMs / 1000, 1, 7 * 86_400) * 1000,
    geoSeverity: severityVar(env, 'FRAUD_GEO_SEVERITY', d.geoSeverity),
    maxUsers: intVar(env, 'FRAUD_MAX_USERS', 100_000, 1, 100_000_000),
    maxEventsPerUser: intVar(env, 'FRAUD_MAX_EVENTS_PER_USER', 2_000, 10, 1_000_000),
  };
}

/** Generates a development HS256 secret: random, process-local, never used in production. */
export type SecretGenerator = () => string;

function parseJwt(env: Env, production: boolean, generateSecret: SecretGenerator): JwtConfig {
  const secret = optional(env, 'JWT_SECRET');
  const publicKey = optional(env, 'JWT_PUBLIC_KEY');
  const issuer = optional(env, 'JWT_ISSUER');
  const audience = optional(env, 'JWT_AUDIENCE');
  if (secret !== undefined && publicKey !== undefined) {
    throw new ConfigError('JWT_SECRET', 'set only one of JWT_SECRET (HS256) and JWT_PUBLIC_KEY (RS256)');
  }
  if (publicKey !== undefined) {
    const pem = publicKey.replace(/\\n/g, '\n');
    if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem)) {
      throw new ConfigError('JWT_PUBLIC_KEY', 'expected a PEM-encoded RSA public key');
    }
    return { algorithm: 'RS256', publicKey: pem, issuer, audience };
  }
  if (secret !== undefined) {
    if (production && Buffer.byteLength(secret) < 32) {
      throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes in production');
    }
    return { algorithm: 'HS256', secret, generated: false, issuer, audience };
  }
  if (production) {
    throw new ConfigError('JWT_SECRET', 'is required in production (or JWT_PUBLIC_KEY for RS256)');
  }
  return { algorithm: 'HS256', secret: generateSecret(), generated: true, issuer, audience };
}

/**
 * Parses the environment into a Config.
 * @throws ConfigError naming the first variable that is missing or malformed.
 */
export function loadConfig(env: Env, generateSecret: SecretGenerator): Config {
  const nodeEnv = str(env, 'NODE_ENV', 'development');
  const production = nodeEnv === 'production';
  const logLevel = str(env, 'LOG_LEVEL', production ? 'info' : 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const brokersRaw = optional(env, 'KAFKA_BROKERS');
  if (production && brokersRaw === undefined) {
    throw new ConfigError('KAFKA_BROKERS', 'is required in production');
  }
  const topics: TopicNames = {
    activity: topicVar(env, 'KAFKA_ACTIVITY_TOPIC', 'user-activities'),
    processed: topicVar(env, 'KAFKA_PROCESSED_TOPIC', 'user-activities.processed'),
    alerts: topicVar(env, 'KAFKA_ALERT_TOPIC', 'fraud-alerts'),
    dlq: topicVar(env, 'KAFKA_DLQ_TOPIC', 'user-activities.dlq'),
  };
  const distinct = new Set(Object.values(topics));
  if (distinct.size !== 4) throw new ConfigError('KAFKA_DLQ_TOPIC', 'the four topic names must differ');

  const config: Config = {
    nodeEnv,
    production,
    development: nodeEnv === 'development',
    host: str(env, 'HOST', '0.0.0.0'),
    port: intVar(env, 'PORT', 4000, 0, 65535),
    logLevel: logLevel as LogLevel,
    roles: parseRoles(optional(env, 'ROLES')),
    kafka: {
      brokers: parseBrokers(brokersRaw ?? 'localhost:9092'),
      clientId: str(env, 'KAFKA_CLIENT_ID', 'activity-gateway'),
      topics,
      partitions: intVar(env, 'KAFKA_PARTITIONS', 6, 1, 1000),
      groupPrefix: str(env, 'KAFKA_GROUP_PREFIX', ''),
    },
    consumer: {
      maxWaitMs: intVar(env, 'CONSUMER_MAX_WAIT_MS', 200, 1, 30_000),
      minBytes: intVar(env, 'CONSUMER_MIN_BYTES', 1, 1, 64 * 1024 * 1024),
      maxBytesPerPartition: intVar(env, 'CONSUMER_MAX_BYTES_PER_PARTITION', 4 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      concurrency: intVar(env, 'CONSUMER_CONCURRENCY', 6, 1, 1000),
    },
    databaseUrl: parseDatabaseUrl(optional(env, 'DATABASE_URL')),
    pgliteDir: str(env, 'PGLITE_DIR', '.data/pglite'),
    jwt: parseJwt(env, production, generateSecret),
    introspection: boolVar(env, 'INTROSPECTION', !production),
    corsOrigins: (optional(env, 'CORS_ORIGINS') ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
    limits: {
      maxBodyBytes: intVar(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      maxBatchSize: intVar(env, 'MAX_BATCH_SIZE', 500, 1, 500),
      recordRatePerSecond: intVar(env, 'RECORD_RATE_PER_SECOND', 100, 0, 1_000_000),
      recordBurst: intVar(env, 'RECORD_BURST', 1000, 1, 10_000_000),
      maxQueryDepth: intVar(env, 'MAX_QUERY_DEPTH', 12, 2, 100),
      maxQueryCost: intVar(env, 'MAX_QUERY_COST', 20_000, 10, 10_000_000),
    },
    trustProxyHops: intVar(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
    websocket: {
      maxConnections: intVar(env, 'WS_MAX_CONNECTIONS', 20_000, 1, 1_000_000),
      maxSubscriptionsPerConnection: intVar(env, 'WS_MAX_SUBSCRIPTIONS', 20, 1, 1_000),
      deflate: boolVar(env, 'WS_DEFLATE', false),
      keepAliveMs: intVar(env, 'WS_KEEPALIVE_MS', 30_000, 1_000, 600_000),
      maxBufferedBytes: intVar(env, 'SUBSCRIBER_MAX_BUFFERED_BYTES', 1024 * 1024, 1024, 256 * 1024 * 1024),
      maxQueuedEvents: intVar(env, 'SUBSCRIBER_MAX_QUEUED_EVENTS', 10_000, 10, 1_000_000),
      gapMs: intVar(env, 'FANOUT_GAP_MS', 50, 1, 10_000),
    },
    fraud: parseFraud(env),
    producer: {
      lingerMs: intVar(env, 'PRODUCER_LINGER_MS', 2, 0, 1_000),
      maxBatchRecords: intVar(env, 'PRODUCER_MAX_BATCH', 2_000, 1, 100_000),
      timeoutMs: intVar(env, 'PUBLISH_TIMEOUT_MS', 10_000, 100, 120_000),
      retries: intVar(env, 'PRODUCER_RETRIES', 3, 0, 20),
    },
  };
  return Object.freeze(config);
}
