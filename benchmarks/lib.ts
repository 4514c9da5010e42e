import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const ROOT = join(__dirname, '..');
export const SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';
export const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BROKERS = process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Polls until `probe` gives a value, or throws after `ms`. */
export async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ
}

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
  output(): string;
}

/**
 * Starts a Node process running compiled JS (or TS through tsx's require hook, in the same
 * process, so `pid` is the process doing the work), keeping the tail of its output.
 */
export function start(script: string, env: Record<string, string>, args: string[] = [], nodeArgs: string[] = []): Proc {
  const hook = script.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : [];
  const child = spawn(process.execPath, [...hook, ...nodeArgs, script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A throwaway PostgreSQL schema and a URL whose connections use it. */
export async function schema(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA ${name}`);
  await c.end();
  const u = new URL(PG_URL);
  u.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: u.toString(),
    name,
    drop: async () => {
      const d = new pg.Client({ connectionString: PG_URL });
      await d.connect();
      await d.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await d.end();
    },
  };
}

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

/** Starts the compiled gateway (or `script`, which runs it) and waits until /ready answers 200. */
export async function gateway(env: Record<string, string>, label = 'gateway', script = join(ROOT, 'dist', 'src', 'main.js')): Promise<Proc & { url: string }> {
  const p = start(script, env, [], gatewayNodeArgs(label));
  const url = `http://127.0.0.1:${env.PORT}`;
  try {
    await until(async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined), 90_000, 'the gateway to be ready');
  } catch (err) {
    await p.stop();
    throw new Error(`${(err as Error).message}\n${p.output()}`);
  }
  return Object.assign(p, { url });
}

/** Reads one metric's value (summed over label sets) from a Prometheus text page. */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Runs autocannon in a process of its own against one request shape. */
export async function load(o: { url: string; body?: string; headers?: Record<string, string>; connections: number; seconds: number; method?: string }): Promise<LoadResult> {
  const args = ['-c', String(o.connections), '-d', String(o.seconds), '-m', o.method ?? 'POST', '--json', '--renderStatusCodes', 'false'];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (o.body) args.push('-b', o.body);
  args.push(o.url);
  const p = start(join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'), {}, args);
  await new Promise((r) => p.child.once('exit', r));
  const json = p.output().slice(p.output().indexOf('{"'));
  const r = JSON.parse(json.slice(0, json.lastIndexOf('}') + 1)) as {
    requests: { total: number; average: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
    duration: number;
  };
  return { requests: r.requests.total, perSecond: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

/** CPU seconds used so far by the broker (java) and by every PostgreSQL process, from /proc. */
export function serviceCpu(): { broker: number; postgres: number } {
  let broker = 0;
  let postgres = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm === 'java' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('kafka.Kafka')) broker += cpuSeconds(Number(entry));
      else if (comm === 'postgres' || comm.startsWith('postgres')) postgres += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return { broker, postgres };
}

/** CPU seconds the whole machine has been busy (all cores, everything but idle and iowait), from /proc/stat. */
export function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return (total - f[3]! - f[4]!) / 100;
}

/**
 * Waits (at most `ms`) until the machine is quiet: under `cores` busy over half a second. What a
 * scenario leaves behind (the broker flushing and cleaning the logs of a large topic, PostgreSQL's
 * checkpoints and autovacuum) would otherwise fall on the next one. Returns the last reading.
 */
export async function settle(cores = 0.25, ms = 30_000): Promise<number> {
  const deadline = performance.now() + ms;
  for (;;) {
    const b0 = machineBusy();
    const t0 = performance.now();
    await sleep(500);
    const busy = (machineBusy() - b0) / ((performance.now() - t0) / 1000);
    if (busy < cores || performance.now() > deadline) return busy;
  }
}

export type CpuReading = { gateway: number; broker: number; postgres: number; machine: number };

/** A reading for cpuShare. */
export function cpuReading(gatewayPid: number): CpuReading {
  return { gateway: cpuSeconds(gatewayPid), ...serviceCpu(), machine: machineBusy() };
}

/** CPU used between a reading and now, per part (seconds). */
export function cpuSince(before: CpuReading, gatewayPid: number): CpuReading {
  const now = cpuReading(gatewayPid);
  return { gateway: now.gateway - before.gateway, broker: now.broker - before.broker, postgres: now.postgres - before.postgres, machine: now.machine - before.machine };
}

/** Sums of CPU deltas (for a figure measured in several rounds). */
export function addCpu(a: CpuReading | undefined, b: CpuReading): CpuReading {
  return a ? { gateway: a.gateway + b.gateway, broker: a.broker + b.broker, postgres: a.postgres + b.postgres, machine: a.machine + b.machine } : b;
}

/** A CPU delta over `wallSeconds` as a note: cores used by each part. */
export function formatCpu(d: CpuReading, wallSeconds: number): string {
  const f = (x: number) => `${(x / wallSeconds).toFixed(2)}`;
  const rest = d.machine - d.gateway - d.broker - d.postgres;
  return `cores used over ${wallSeconds.toFixed(1)} s: gateway ${f(d.gateway)}, broker ${f(d.broker)}, PostgreSQL ${f(d.postgres)}, the rest ${f(Math.max(0, rest))}, machine ${f(d.machine)} of ${cpus().length}`;
}

/**
 * CPU of the gateway, the broker, PostgreSQL, the rest (load generators and anything
 * else on the machine) and the whole machine between two readings, as a note.
 */
export function cpuShare(before: CpuReading, wallSeconds: number, gatewayPid: number): string {
  return formatCpu(cpuSince(before, gatewayPid), wallSeconds);
}

/** The gateway's produce-request counters (from its /metrics). */
export interface ProduceReading {
  requests: number;
  records: number;
  seconds: number;
}

export async function produceReading(gatewayUrl: string): Promise<ProduceReading> {
  const [requests, records, seconds] = await Promise.all(
    ['kafka_publish_batch_records_count', 'kafka_publish_batch_records_sum', 'kafka_publish_seconds_sum'].map((name) => metric(gatewayUrl, name)),
  );
  return { requests: requests!, records: records!, seconds: seconds! };
}

/** Produce requests made between two readings: how many, records in each, and their latency. */
export function produceShare(before: ProduceReading, after: ProduceReading, wallSeconds: number): string {
  const requests = after.requests - before.requests;
  if (requests <= 0) return 'no produce requests';
  const records = (after.records - before.records) / requests;
  const ms = ((after.seconds - before.seconds) / requests) * 1000;
  return `produce requests ${Math.round(requests / wallSeconds)}/s of ${records.toFixed(1)} records, ${ms.toFixed(2)} ms each`;
}

/** A bench process compiled by `tsc -p tsconfig.bench.json` (every process the bench starts runs compiled). */
export function compiled(name: string): string {
  return join(ROOT, 'dist', 'benchmarks', `${name}.js`);
}
