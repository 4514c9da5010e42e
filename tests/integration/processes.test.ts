import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Leftovers, PG_URL, TEST_SECRET, testEnv, throwawaySchema, urlWithSchema, waitFor } from '../support/harness';
import { testKafka } from '../support/kafka';
import { freePort, freePortPair } from '../support/second-broker';
import { KAFKA_PATCHES } from '../../src/kafka/patches';

const root = join(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
/**
 * A TypeScript entry point run as `npm run dev` runs it: Node with tsx's loader, no tsx CLI in
 * between. The CLI relays a signal and kills its child outright when the child has not reported
 * it within about 60 ms, which a busy machine exceeds: the ordered shutdown would not be tested.
 */
const nodeWithTsx = (script: string): [string, string[]] => [process.execPath, ['--import', 'tsx', script]];
const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

/** The environment with every variable of the gateway removed, plus `env`. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const k of Object.keys(base)) {
    if (/^(KAFKA_|JWT_|DATABASE_URL|PORT$|ROLES$|NODE_ENV$|LOG_LEVEL$|PGLITE_DIR$)/.test(k)) delete base[k];
  }
  return { ...base, ...env };
}

describe('start-up', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ KAFKA_BROKERS: 'nope' }, 'KAFKA_BROKERS'],
    [{ NODE_ENV: 'production', KAFKA_BROKERS: 'k:9092' }, 'JWT_SECRET'],
  ])('refuses bad configuration %j, naming %s, with exit code 2', (env, variable) => {
    const r = spawnSync(tsx, [join(root, 'src', 'main.ts')], { env: cleanEnv(env), encoding: 'utf8', timeout: 90_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`configuration error: ${variable}:`);
  });

  it('a production start stops, naming the KafkaJS changes, when they could not be installed; outside production it reports them and runs', async () => {
    const schema = await throwawaySchema();
    leftovers.add(() => schema.drop());
    const env = (overrides: Record<string, string>) =>
      cleanEnv({
        ...(testEnv({ ROLES: 'gateway', DATABASE_URL: urlWithSchema(schema.name), LOG_LEVEL: 'info' }) as Record<string, string>),
        JWT_SECRET: TEST_SECRET,
        ...overrides,
      });
    // KafkaJS loaded before the gateway's code (as a preloaded agent would): its modules keep their originals.
    const preloaded = ['--require', 'kafkajs', '--import', 'tsx', join(root, 'src', 'main.ts')];
    const refused = spawnSync(process.execPath, preloaded, { env: env({ NODE_ENV: 'production' }), encoding: 'utf8', timeout: 90_000 });
    expect(refused.status).toBe(1);
    const output = refused.stdout + refused.stderr;
    expect(output).toContain('KafkaJS patches not installed');
    // The module replacements come too late; the request queue's change patches a prototype and still takes.
    const late = KAFKA_PATCHES.filter((name) => name !== 'idle-request-queue');
    const refusedLine = /KafkaJS patches not installed[^\n]*/.exec(output)![0];
    for (const name of late) expect(refusedLine).toContain(name);
    expect(refusedLine).not.toContain('idle-request-queue');

    const port = await freePort();
    const child = spawn(process.execPath, preloaded, { env: env({ NODE_ENV: 'test', PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
    leftovers.add(() => void child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const metrics = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
      return res?.ok ? res.text() : undefined;
    }, 60_000, `the non-production gateway to serve /metrics\n${out}`);
    for (const name of late) expect(metrics).toContain(`kafka_patch_installed{patch="${name}"} 0`);
    expect(metrics).toContain('kafka_patch_installed{patch="idle-request-queue"} 1');
    expect(out).toMatch(/skipped/);
  });

  it('npm run token prints a token signed with the configured secret', () => {
    const r = spawnSync(tsx, [join(root, 'src', 'cli', 'token.ts'), '--sub', 'ana', '--roles', 'analyst,admin', '--ttl', '15m'], {
      env: cleanEnv({ JWT_SECRET: TEST_SECRET }),
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(r.status).toBe(0);
    const claims = jwt.verify(r.stdout.trim(), TEST_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims.sub).toBe('ana');
    expect(claims.roles).toEqual(['analyst', 'admin']);
    expect(claims.exp! - claims.iat!).toBe(900);
  });
});

describe('a process with only the processor and fraud roles', () => {
  it('starts without serving HTTP and stores what reaches its topic', async () => {
    const schema = await throwawaySchema();
    leftovers.add(() => schema.drop());
    const env: Record<string, string | undefined> = { ...testEnv(), DATABASE_URL: urlWithSchema(schema.name), ROLES: 'processor,fraud', LOG_LEVEL: 'warn' };
    // Topics are created by whichever role starts first; this process creates them itself.
    const child = spawn(...nodeWithTsx(join(root, 'src', 'main.ts')), { env: cleanEnv(env as Record<string, string>), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr!.on('data', (d) => (out += d));
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    leftovers.add(() => child.kill('SIGKILL'));
    const kafka = testKafka();
    const eventId = randomUUID();
    const now = new Date().toISOString();
    const value = { schemaVersion: 1, eventId, userId: 'solo', type: 'LOGIN', occurredAt: now, receivedAt: now, properties: {} };
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`exited: ${out}`);
      const producer = kafka.producer();
      await producer.connect();
      try {
        await producer.send({ topic: env.KAFKA_ACTIVITY_TOPIC!, messages: [{ key: 'solo', value: JSON.stringify(value) }] });
      } finally {
        await producer.disconnect();
      }
      return true;
    }, 60_000, 'the topic to exist');
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema.name}` });
    await c.connect();
    leftovers.add(() => c.end());
    await waitFor(async () => ((await c.query('SELECT 1 FROM activity_events WHERE event_id = $1', [eventId])).rows.length === 1 ? true : undefined), 60_000, `the event to be stored; output:\n${out}`);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});

describe('the default deployment, all roles in one process', () => {
  it('stops every role in order on SIGTERM, the gateway before the role thread, and loses nothing it acknowledged', async () => {
    const schema = await throwawaySchema();
    leftovers.add(() => schema.drop());
    const port = await freePort();
    const env = testEnv({ DATABASE_URL: urlWithSchema(schema.name), ROLE_THREADS: 'true', LOG_LEVEL: 'info', PORT: String(port) }) as Record<string, string>;
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(...nodeWithTsx(join(root, 'src', 'main.ts')), { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`${code ?? signal}`)));
    leftovers.add(() => child.kill('SIGKILL'));
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`exited: ${out}`);
      const r = await fetch(`${url}/ready`).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    }, 90_000, 'the process to be ready');

    const auth = `Bearer ${jwt.sign({ sub: 'svc', roles: ['service'] }, TEST_SECRET, { algorithm: 'HS256', expiresIn: 600 })}`;
    const acknowledged: string[] = [];
    const record = async (n: number): Promise<void> => {
      const inputs = Array.from({ length: 50 }, (_, i) => ({ eventId: randomUUID(), userId: `u-${(n * 50 + i) % 7}`, type: 'PAGE_VIEW', pageUrl: `/p/${i}` }));
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: JSON.stringify({ query: 'mutation M($inputs: [RecordActivityInput!]!) { recordActivities(inputs: $inputs) { eventId } }', variables: { inputs } }),
      }).catch(() => undefined);
      const body = (await res?.json().catch(() => undefined)) as { data?: { recordActivities: Array<{ eventId: string }> } } | undefined;
      for (const r of body?.data?.recordActivities ?? []) acknowledged.push(r.eventId);
    };
    for (let i = 0; i < 10; i++) await record(i);
    // More calls in flight as the signal arrives: each is answered or refused, never half-recorded.
    const inFlight = Promise.all([10, 11, 12, 13].map((i) => record(i)));
    child.kill('SIGTERM');
    await inFlight;
    const how = await exited;
    if (how !== '0') throw new Error(`exited with ${how}:\n${out.slice(-6000)}`);
    expect(acknowledged.length).toBeGreaterThanOrEqual(500);

    const lines = out.split('\n').flatMap((l) => {
      try {
        return [JSON.parse(l) as { msg?: string; part?: string; role?: string }];
      } catch {
        return [];
      }
    });
    const at = (pred: (l: { msg?: string; part?: string; role?: string }) => boolean) => lines.findIndex(pred);
    const httpStopped = at((l) => l.msg === 'part stopped' && l.part === 'http server' && l.role === 'gateway');
    const processorStopped = at((l) => l.msg === 'part stopped' && l.part === 'processor' && l.role === 'processor,fraud');
    const threadStoreClosed = at((l) => l.msg === 'part stopped' && l.part === 'store' && l.role === 'processor,fraud');
    const threadStopped = at((l) => l.msg === 'part stopped' && l.part === 'processor,fraud thread' && l.role === 'gateway');
    const storeStopped = at((l) => l.msg === 'part stopped' && l.part === 'store' && l.role === 'gateway');
    expect(httpStopped).toBeGreaterThan(-1);
    expect(processorStopped).toBeGreaterThan(httpStopped);
    expect(threadStoreClosed).toBeGreaterThan(processorStopped);
    expect(threadStopped).toBeGreaterThan(threadStoreClosed);
    expect(storeStopped).toBeGreaterThan(threadStopped);

    // What was acknowledged but not yet stored waits in Kafka: a processor started again stores all of it, once.
    const drain = spawn(...nodeWithTsx(join(root, 'src', 'main.ts')), { env: cleanEnv({ ...env, ROLES: 'processor', PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let drainOut = '';
    drain.stdout!.on('data', (d) => (drainOut += d));
    drain.stderr!.on('data', (d) => (drainOut += d));
    const drained = new Promise<number | null>((resolve) => drain.once('exit', (code) => resolve(code)));
    leftovers.add(() => drain.kill('SIGKILL'));
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema.name}` });
    await c.connect();
    leftovers.add(() => c.end());
    const stored = async () => (await c.query<{ event_id: string; n: number }>('SELECT event_id, count(*)::int AS n FROM activity_events WHERE event_id = ANY($1::text[]) GROUP BY event_id', [acknowledged])).rows;
    await waitFor(async () => ((await stored()).length === acknowledged.length ? true : undefined), 60_000, 'every acknowledged event to be stored');
    expect((await stored()).every((r) => r.n === 1)).toBe(true);
    await waitFor(() => (drainOut.includes('"msg":"started"') ? true : undefined), 60_000, 'the processor to have started');
    drain.kill('SIGTERM');
    expect(await drained).toBe(0);
  }, 240_000);
});

describe('npm run dev on a machine with no database URL and no broker', () => {
  it('starts a broker and the embedded store, prints a working admin token, is ready, and stops on SIGTERM', async () => {
    const kafkaPort = await freePortPair();
    const httpPort = await freePort();
    const work = mkdtempSync(join(tmpdir(), 'dev-'));
    const brokerEnv = cleanEnv({ KAFKA_LOCAL_PORT: String(kafkaPort), KAFKA_LOCAL_HOME: join(work, 'kafka') });
    leftovers.add(() => spawnSync(process.execPath, [join(root, 'scripts', 'kafka.mjs'), 'down'], { env: brokerEnv }));

    const child: ChildProcess = spawn(...nodeWithTsx(join(root, 'src', 'dev.ts')), {
      env: {
        ...brokerEnv,
        PORT: String(httpPort),
        KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
        PGLITE_DIR: join(work, 'pglite'),
        JWT_SECRET: TEST_SECRET,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    leftovers.add(() => child.kill('SIGKILL'));

    const adminToken = await waitFor(() => /Admin token\s+(\S+)/.exec(out)?.[1], 120_000, `the dev banner; output so far:\n${out}`);
    expect(out).toContain(`No broker answers on 127.0.0.1:${kafkaPort}`);
    expect(out).toContain(`http://localhost:${httpPort}/graphql`);

    const ready = await fetch(`http://127.0.0.1:${httpPort}/ready`);
    expect(ready.status).toBe(200);
    const res = await fetch(`http://127.0.0.1:${httpPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query: '{ serverTime }' }),
    });
    expect(((await res.json()) as { data: { serverTime: string } }).data.serverTime).toMatch(/Z$/);

    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`dev exited with ${code}; its output:\n${out}`);
  }, 180_000);
});
