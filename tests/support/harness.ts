import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { App } from '../../src/app';
import { signToken } from '../../src/auth/jwt';
import type { Role } from '../../src/auth/principal';
import { GatewayClient } from '../../src/client';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const BROKERS = process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092';
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const uniqueName = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

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
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig(testEnv(overrides), () => 'unused');
}

export interface TestGateway {
  app: App;
  config: Config;
  url: string;
  client(tokenValue?: string): GatewayClient;
}

/** Starts a real gateway (real broker, real PostgreSQL in a throwaway schema) on a free port. */
export async function startGateway(leftovers: Leftovers, overrides: Record<string, string | undefined> = {}): Promise<TestGateway> {
  const config = testConfig(overrides);
  const schema = config.databaseUrl ? await throwawaySchema() : undefined;
  if (schema) leftovers.add(() => schema.drop());
  const app = new App(config, createLogger(config.logLevel), { storeSchema: schema?.name });
  await app.start();
  leftovers.add(() => app.stop());
  const url = `http://127.0.0.1:${app.port}`;
  return { app, config, url, client: (t?: string) => new GatewayClient(url, t) };
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
