// The gateway as the bench runs it: the compiled build, with the Node flags it ships with, its
// own topics and groups, and no rate limit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROKERS, ROOT, SECRET } from './config';
import { start, type Proc } from './processes';
import { until } from './wait';

const MAIN = join(ROOT, 'dist', 'src', 'main.js');

/** Environment for a gateway process of the benchmark: its own topics and groups, no rate limit. */
export function gatewayEnv(prefix: string, dbUrl: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    KAFKA_BROKERS: BROKERS,
    KAFKA_CLIENT_ID: prefix,
    KAFKA_ACTIVITY_TOPIC: `${prefix}.activities`,
    KAFKA_PROCESSED_TOPIC: `${prefix}.processed`,
    KAFKA_ALERT_TOPIC: `${prefix}.alerts`,
    KAFKA_DLQ_TOPIC: `${prefix}.dlq`,
    KAFKA_GROUP_PREFIX: `${prefix}.`,
    DATABASE_URL: dbUrl,
    JWT_SECRET: SECRET,
    RECORD_RATE_PER_SECOND: '0',
    WS_MAX_CONNECTIONS: '50000',
    WS_KEEPALIVE_MS: '600000',
    ...extra,
    // Experiments: BENCH_GATEWAY_ENV='{"CONSUMER_MAX_WAIT_MS":"5"}' applies to every gateway process.
    ...(process.env.BENCH_GATEWAY_ENV ? (JSON.parse(process.env.BENCH_GATEWAY_ENV) as Record<string, string>) : {}),
  };
}

/**
 * Node options for a gateway process: with `--profile` (BENCH_PROFILE_DIR), each gateway writes
 * V8 CPU profiles into a folder of its own there when it stops, one per thread (Node names them
 * `CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile`, thread 0 the main one); `npm run bench:profile`
 * summarizes them.
 */
export function gatewayNodeArgs(label: string): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  // BENCH_NODE_ARGS adds Node or V8 flags to every gateway process (say `--trace-gc`).
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  return [...startFlags(), ...extra, ...(dir ? ['--cpu-prof', '--cpu-prof-dir', join(dir, `${label}-${Date.now()}`)] : [])];
}

/** The Node flags of `npm start` (package.json), so that every gateway the bench measures runs as it ships. */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((a) => a.startsWith('--'));
}

/** Starts the compiled gateway (or `script`, which runs it) without waiting for it: for roles that serve no HTTP worth waiting on. */
export function gatewayProcess(env: Record<string, string>, label: string, script = MAIN): Proc {
  return start(script, env, [], gatewayNodeArgs(label));
}

/** Starts the compiled gateway (or `script`, which runs it) and waits until /ready answers 200; one that never does is stopped, and the error carries its output. */
export async function gateway(env: Record<string, string>, label = 'gateway', script = MAIN): Promise<Proc & { url: string }> {
  const p = gatewayProcess(env, label, script);
  const url = `http://127.0.0.1:${env.PORT}`;
  try {
    await until(async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined), 90_000, 'the gateway to be ready');
  } catch (err) {
    await p.stop();
    throw new Error(`${(err as Error).message}\n${p.output()}`);
  }
  return Object.assign(p, { url });
}
