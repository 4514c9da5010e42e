import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { App, type AppOptions } from '../../src/app';
import { signToken } from '../../src/auth/jwt';
import type { Role } from '../../src/auth/principal';
import { GatewayClient } from '../../src/client';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const BROKERS = process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092';
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** This test run's id (set by the global setup, so every worker shares it): in every name below, so the run's topics can be found and deleted after it. */
export const TEST_RUN_ID = process.env.TEST_RUN_ID ?? `r${Date.now().toString(36)}`;

export const uniqueName = (prefix: string): string => `${prefix}-${TEST_RUN_ID}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** Things to dispose of after a test file, in reverse order of creation (like graphql-ws's `leftovers`). */
export class Leftovers {
  private readonly items: Array<() => Promise<unknown> | unknown> = [];
  add<T>(dispose: () => Promise<unknown> | unknown, value?: T): T | undefined {
    this.items.push(dispose);
    return value;
  }
  async dispose(): Promise<void> {
    for (const d of this.items.splice(0).reverse()) {
      try {
        await d();
      } catch {
        // keep disposing the rest
      }
    }
  }
}

/** A token signed with the test secret. */
export function token(sub: string, roles: Role[] = ['user'], ttlSeconds = 3600): string {
  return signToken({ sub, roles, ttlSeconds }, TEST_SECRET, 'HS256');
}

/** A throwaway PostgreSQL schema; `drop()` removes it with everything in it. */
export async function throwawaySchema(): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${name}`);
  await client.end();
  return {
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await c.end();
    },
  };
}

/** Environment for a test gateway: unique topics, a free port, the test secret, quiet logs. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const prefix = uniqueName('t');
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    KAFKA_BROKERS: BROKERS,
    KAFKA_CLIENT_ID: prefix,
    KAFKA_ACTIVITY_TOPIC: `${prefix}.activities`,
    KAFKA_PROCESSED_TOPIC: `${prefix}.processed`,
    KAFKA_ALERT_TOPIC: `${prefix}.alerts`,
    KAFKA_DLQ_TOPIC: `${prefix}.dlq`,
    KAFKA_PARTITIONS: '3',
    KAFKA_GROUP_PREFIX: `${prefix}.`,
    DATABASE_URL: PG_URL,
    JWT_SECRET: TEST_SECRET,
    // Roles share the test's thread unless a test asks for the default deployment's role thread.
    ROLE_THREADS: 'false',
    ...overrides,
  };
}

export interface TestGateway {
  app: App;
  config: Config;
  /** The environment it was configured from (topics, groups), to start a sibling. */
  env: Record<string, string | undefined>;
  /** Its PostgreSQL schema, if any. */
  storeSchema?: string;
  /** Base URL, when it serves (the gateway role). */
  url: string;
  client(tokenValue?: string): GatewayClient;
}

export interface StartOptions {
  /** Share this gateway's topics, consumer groups and database schema (a second instance). */
  share?: TestGateway;
  afterStore?: AppOptions['afterStore'];
}

/** Starts a real gateway (real broker, real PostgreSQL in a throwaway schema) on a free port. */
export async function startGateway(
  leftovers: Leftovers,
  overrides: Record<string, string | undefined> = {},
  options: StartOptions = {},
): Promise<TestGateway> {
  const env = options.share ? { ...options.share.env, ...overrides } : testEnv(overrides);
  const config = loadConfig(env, () => 'unused');
  let storeSchema = options.share?.storeSchema;
  if (!options.share && config.databaseUrl) {
    const schema = await throwawaySchema();
    leftovers.add(() => schema.drop());
    storeSchema = schema.name;
  }
  const app = new App(config, createLogger(config.logLevel), { storeSchema, afterStore: options.afterStore });
  await app.start();
  leftovers.add(() => app.stop());
  const url = config.roles.has('gateway') ? `http://127.0.0.1:${app.port}` : '';
  return { app, config, env, storeSchema, url, client: (t?: string) => new GatewayClient(url, t) };
}

/** A PostgreSQL URL whose connections use `schema` (for child processes such as the replay CLI). */
export function urlWithSchema(schema: string): string {
  const u = new URL(PG_URL);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface GraphQLResult {
  status: number;
  data?: any;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions: Record<string, any> }>;
}

/** POSTs one GraphQL operation with a bearer token. */
export async function graphql(url: string, query: string, variables: Record<string, unknown> = {}, bearer?: string): Promise<GraphQLResult> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

export const RECORD_MANY = `mutation M($inputs: [RecordActivityInput!]!) {
  recordActivities(inputs: $inputs) { eventId duplicate partition offset }
}`;

/** Rows of a query run directly in a gateway's schema, to look at the store as the processor left it. */
export async function sql<R>(gw: Pick<TestGateway, 'storeSchema'>, text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${gw.storeSchema}` });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as R[];
  } finally {
    await c.end();
  }
}
