import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { signToken } from './auth/jwt';
import type { Config } from './config';
import { brokersAnswer } from './kafka/client';
import { configOrExit, run } from './main';
import { DEV_SECRET_FILE } from './cli/signing';
import { projectRoot } from './paths';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Makes sure a broker answers on KAFKA_BROKERS: when none does and the address is local, starts
 * the project's single-node Kafka there (scripts/kafka.mjs). @throws when that is impossible.
 */
async function ensureBroker(config: Config): Promise<void> {
  if (await brokersAnswer(config.kafka.brokers)) return;
  const [first] = config.kafka.brokers;
  const [host, port] = [first!.slice(0, first!.lastIndexOf(':')), first!.slice(first!.lastIndexOf(':') + 1)];
  if (config.kafka.brokers.length !== 1 || !LOCAL_HOSTS.has(host)) {
    throw new Error(`no broker answers on ${config.kafka.brokers.join(',')}, and it is not a local address to start one on`);
  }
  process.stdout.write(`No broker answers on ${first}: starting a local Kafka there (npm run kafka:up).\n`);
  const r = spawnSync(process.execPath, [join(projectRoot(), 'scripts', 'kafka.mjs'), 'up'], {
    stdio: 'inherit',
    env: { ...process.env, KAFKA_LOCAL_PORT: port },
  });
  if (r.status !== 0) throw new Error('the local Kafka did not start (see above)');
}


/** Without JWT_SECRET or JWT_PUBLIC_KEY outside production: reuse or create the local development secret. */
function useDevSecret(env: NodeJS.ProcessEnv): boolean {
  if (env.NODE_ENV === 'production' || env.JWT_SECRET || env.JWT_PUBLIC_KEY) return false;
  const file = join(projectRoot(), DEV_SECRET_FILE);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  }
  env.JWT_SECRET = readFileSync(file, 'utf8').trim();
  return true;
}

/** `npm run dev`: everything local, with URLs and a ready admin token printed. */
async function main(): Promise<void> {
  const devSecret = useDevSecret(process.env);
  const config = configOrExit(process.env);
  await ensureBroker(config);
  const app = await run(config);
  const base = `http://localhost:${app.port}`;
  const lines = [
    '',
    `  GraphQL      ${base}/graphql`,
    `  WebSocket    ws://localhost:${app.port}/graphql`,
    `  Health       ${base}/health   ${base}/ready   ${base}/metrics`,
    `  Store        ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${config.pgliteDir}`}`,
    `  Kafka        ${config.kafka.brokers.join(',')}`,
  ];
  if (config.jwt.algorithm === 'HS256') {
    const token = signToken({ sub: 'dev-admin', roles: ['admin'], ttlSeconds: 12 * 3600 }, config.jwt.secret, 'HS256');
    lines.push(`  Admin token  ${token}`);
    if (devSecret) lines.push(`               (development secret in ${DEV_SECRET_FILE}; npm run token signs with it too)`);
  } else {
    lines.push('  Tokens       RS256: sign with JWT_PRIVATE_KEY via npm run token');
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

void main().catch((err) => {
  process.stderr.write(`dev: ${(err as Error).message}\n`);
  process.exit(1);
});
