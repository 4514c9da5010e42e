// npm run bench [-- --only a,b --seconds N --subscribers N --events N]
// Runs the scenarios on the local stack (broker and PostgreSQL on this machine, the gateway and
// every load generator in processes of their own) and prints each figure with the ratios to
// references measured in the same run. Results also go to bench-results/<time>.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { signToken } from '../src/auth/jwt';
import { createKafka, deleteTopicsAndGroups } from '../src/kafka/client';
import { createLogger } from '../src/logger';
import {
  BROKERS, PG_URL, ROOT, SECRET, addCpu, settle, compiled, cpuSeconds, cpuReading, cpuShare, cpuSince, formatCpu, produceReading, produceShare, type CpuReading, type ProduceReading, freePort, gateway, gatewayEnv, gatewayNodeArgs, load, metric, rssMb, schema, sleep, start, until,
} from './lib';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    subscribers: { type: 'string', default: '10000' },
    events: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '500' },
    profile: { type: 'boolean', default: false },
  },
});
if (values.profile) {
  process.env.BENCH_PROFILE_DIR = join(ROOT, 'bench-results', 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(process.env.BENCH_PROFILE_DIR, { recursive: true });
}
const SECONDS = Number(values.seconds);
const WARMUP = Math.max(1, Math.round(SECONDS / 5));
const only = values.only ? new Set(values.only.split(',')) : null;
const tok = (sub: string, roles: Array<'user' | 'analyst' | 'admin' | 'service'>) => signToken({ sub, roles, ttlSeconds: 6 * 3600 }, SECRET, 'HS256');
const USER = tok('bench-user', ['user']);
const SERVICE = tok('bench-service', ['service']);
const ANALYST = tok('bench-analyst', ['analyst']);
/** Every topic and group name of a run starts with one of these; its topics are deleted at the end. */
const prefixes = new Set<string>();
const prefix = () => {
  const p = `bench-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
  prefixes.add(p);
  return p;
};

/** Deletes the topics and consumer groups this run created (a full run leaves hundreds of MB in the broker's log otherwise). */
function deleteRunTopics(): Promise<{ topics: number; groups: number }> {
  const kafka = createKafka({ brokers: BROKERS.split(','), clientId: 'bench-cleanup', logger: createLogger('silent') });
  return deleteTopicsAndGroups(kafka, (name) => [...prefixes].some((p) => name.startsWith(`${p}.`)));
}

const RECORD = JSON.stringify({
  query: 'mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId partition offset } }',
  variables: { input: { type: 'PAGE_VIEW', pageUrl: '/home', sessionId: 's1' } },
});
const NOOP = JSON.stringify({ query: 'query Q { serverTime }' });
const BATCH = (n: number) =>
  JSON.stringify({
    query: 'mutation M($inputs: [RecordActivityInput!]!) { recordActivities(inputs: $inputs) { eventId } }',
    variables: { inputs: Array.from({ length: n }, (_, i) => ({ userId: `b-${i % 50}`, type: 'PAGE_VIEW', pageUrl: `/p/${i % 20}`, sessionId: `s-${i % 50}` })) },
  });
const json = { 'content-type': 'application/json' };
const r2 = (x: number) => Math.round(x * 100) / 100;

type Row = { scenario: string; figure: string; value: number; unit: string; note?: string };
const rows: Row[] = [];
const ratios: Array<{ name: string; value: number; target: string; met: boolean }> = [];
const row = (scenario: string, figure: string, value: number, unit: string, note?: string) => rows.push({ scenario, figure, value: r2(value), unit, note });
const ratio = (name: string, value: number, target: number, atLeast = true) =>
  ratios.push({ name, value: r2(value), target: `${atLeast ? '>=' : '<='} ${target}`, met: atLeast ? value >= target : value <= target });

async function withDb<T>(f: (url: string) => Promise<T>): Promise<T> {
  const s = await schema();
  try {
    return await f(s.url);
  } finally {
    await s.drop();
  }
}

/**
 * Scenario 1: one event per mutation at fixed concurrency, against three references. The
 * gateway and the gateways of (a) and (a2) run side by side and are measured in alternating
 * rounds, so drift of the machine over the run falls on all of them alike.
 */
async function ingestSingle(): Promise<void> {
  await withDb(async (db) => {
    const port = await freePort();
    const gw = await gateway(gatewayEnv(prefix(), db, port, { ROLES: 'gateway' }), 'ingest-single');
    // (a) the no-op mutation: the same gateway stack and token answering recordActivity with
    // recording taken out; (a2) recording without Kafka (benchmarks/partial-gateway.ts).
    const partial = async (part: 'graphql' | 'no-kafka') =>
      gateway(gatewayEnv(prefix(), db, await freePort(), { ROLES: 'gateway', PART: part }), `ingest-single-${part}`, compiled('partial-gateway'));
    const pa = await partial('graphql');
    const pa2 = await partial('no-kafka');
    try {
      type Target = { key: string; url: string; pid: number; body: string; requests: number; seconds: number; p50: number[]; p99: number[]; errors: number; cpu?: CpuReading };
      const target = (key: string, g: { url: string; pid: number }, body: string): Target => ({ key, url: g.url, pid: g.pid, body, requests: 0, seconds: 0, p50: [], p99: [], errors: 0 });
      const targets = [target('single', gw, RECORD), target('a', pa, RECORD), target('a2', pa2, RECORD), target('a0', gw, NOOP)];
      const hit = (t: Target, seconds: number) => load({ url: `${t.url}/graphql`, body: t.body, headers: { ...json, authorization: `Bearer ${USER}` }, connections: 64, seconds });
      for (const t of targets) await hit(t, WARMUP);
      let produced: ProduceReading | undefined;
      const rounds = 2;
      const perRound = Math.max(1, Math.round(SECONDS / rounds));
      for (let round = 0; round < rounds; round++) {
        for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
          const produce0 = t.key === 'single' ? await produceReading(gw.url) : undefined;
          const cpu0 = cpuReading(t.pid);
          const r = await hit(t, perRound);
          t.cpu = addCpu(t.cpu, cpuSince(cpu0, t.pid));
          t.requests += r.requests;
          t.seconds += r.requests / Math.max(r.perSecond, 1e-9);
          t.p50.push(r.p50);
          t.p99.push(r.p99);
          t.errors += r.errors + r.non2xx;
          if (produce0) {
            const p1 = await produceReading(gw.url);
            const d = { requests: p1.requests - produce0.requests, records: p1.records - produce0.records, seconds: p1.seconds - produce0.seconds };
            produced = produced ? { requests: produced.requests + d.requests, records: produced.records + d.records, seconds: produced.seconds + d.seconds } : d;
          }
        }
      }
      const rate = (t: Target) => t.requests / t.seconds;
      const lat = (t: Target) => `p50 ${Math.round(t.p50.reduce((a, b) => a + b, 0) / t.p50.length)} ms, p99 ${Math.max(...t.p99)} ms (worst round)`;
      const note = (t: Target) => `${lat(t)}, errors ${t.errors}; ${formatCpu(t.cpu!, t.seconds)}`;
      const [ours, noop, noKafka, query] = targets as [Target, Target, Target, Target];
      const a = rate(noop);
      row('1 single ingest', 'recordActivity', rate(ours), 'events/s', `${note(ours)}; ${produceShare({ requests: 0, records: 0, seconds: 0 }, produced!, ours.seconds)}`);
      row('1 single ingest', '(a) same stack and token, recordActivity as a no-op', a, 'req/s', note(noop));
      row('1 single ingest', '(a0) same gateway, `serverTime` query', rate(query), 'req/s', `${(rate(query) / a).toFixed(2)} of (a); ${note(query)}`);
      row('1 single ingest', '(a2) recorded, acknowledged without Kafka', rate(noKafka), 'req/s', `${(rate(noKafka) / a).toFixed(2)} of (a); ${note(noKafka)}`);
      const single = rate(ours);

      const cport = await freePort();
      const ceiling = start(compiled('ceiling-apollo'), { PORT: String(cport) });
      await until(async () => (ceiling.output().includes('ready') ? true : undefined), 30_000, 'the Apollo ceiling');
      await load({ url: `http://127.0.0.1:${cport}/graphql`, body: RECORD, headers: json, connections: 64, seconds: WARMUP });
      const b = await load({ url: `http://127.0.0.1:${cport}/graphql`, body: RECORD, headers: json, connections: 64, seconds: SECONDS });
      await ceiling.stop();
      row('1 single ingest', '(b) Apollo executeHTTPGraphQLRequest, no-op, no auth', b.perSecond, 'req/s');

      const pport = await freePort();
      const topic = `${prefix()}.peer`;
      spawnSync(process.execPath, ['-e', `const {Kafka}=require('kafkajs');const a=new Kafka({brokers:['${BROKERS}'],logLevel:0}).admin();a.connect().then(()=>a.createTopics({topics:[{topic:'${topic}',numPartitions:6}]})).then(()=>a.disconnect())`], { cwd: ROOT });
      const peer = start(compiled('peer/server'), { PORT: String(pport), KAFKA_BROKERS: BROKERS, TOPIC: topic, JWT_SECRET: SECRET });
      await until(async () => (peer.output().includes('ready') ? true : undefined), 30_000, 'the peer');
      const peerBody = JSON.stringify({ eventType: 'PAGE_VIEW', payload: { pageUrl: '/home' } });
      await load({ url: `http://127.0.0.1:${pport}/events/generate`, body: peerBody, headers: { ...json, authorization: `Bearer ${USER}` }, connections: 64, seconds: WARMUP });
      const c = await load({ url: `http://127.0.0.1:${pport}/events/generate`, body: peerBody, headers: { ...json, authorization: `Bearer ${USER}` }, connections: 64, seconds: SECONDS });
      await peer.stop();
      row('1 single ingest', '(c) hand-wired peer (Express, verify, send per request)', c.perSecond, 'events/s', `p50 ${c.p50} ms`);
      ratio('single ingest / (a)', single / a, 0.85);
      ratio('single ingest / (b)', single / b.perSecond, 0.5);
      ratio('single ingest / (c)', single / c.perSecond, 3);
    } finally {
      await Promise.all([gw.stop(), pa.stop(), pa2.stop()]);
    }
  });
}

/** Scenario 2: 100 events per call over GraphQL and REST, against a bare producer. */
async function ingestBatch(): Promise<void> {
  await withDb(async (db) => {
    const port = await freePort();
    const p = prefix();
    const gw = await gateway(gatewayEnv(p, db, port, { ROLES: 'gateway', MAX_BODY_BYTES: String(4 * 1024 * 1024) }), 'ingest-batch');
    try {
      const headers = { ...json, authorization: `Bearer ${SERVICE}` };
      const body = BATCH(100);
      const restBody = JSON.stringify({ batch: JSON.parse(body).variables.inputs });
      await load({ url: `${gw.url}/graphql`, body, headers, connections: 16, seconds: WARMUP });
      await load({ url: `${gw.url}/v1/events`, body: restBody, headers, connections: 16, seconds: WARMUP });
      // The two paths and the bare producer run in two alternating rounds (the second in reverse
      // order), as in scenario 1, so drift of the machine during the scenario falls on all three.
      type Part = { key: 'graphql' | 'rest' | 'bare'; calls: number; seconds: number; p50: number[]; errors: number; cpu?: CpuReading };
      const parts: Part[] = (['graphql', 'rest', 'bare'] as const).map((key) => ({ key, calls: 0, seconds: 0, p50: [], errors: 0 }));
      const rounds = 2;
      const perRound = Math.max(1, Math.round(SECONDS / rounds));
      for (let round = 0; round < rounds; round++) {
        for (const part of round % 2 === 0 ? parts : [...parts].reverse()) {
          if (part.key === 'bare') {
            const bare = start(compiled('bare-producer'), { KAFKA_BROKERS: BROKERS }, ['for', `${p}.activities`, String(perRound), '100', '16']);
            await new Promise((res) => bare.child.once('exit', res));
            const bp = JSON.parse(bare.output().trim().split('\n').at(-1)!) as { messages: number; seconds: number };
            part.calls += bp.messages / 100;
            part.seconds += bp.seconds;
            continue;
          }
          const cpu0 = cpuReading(gw.pid);
          const r = part.key === 'graphql'
            ? await load({ url: `${gw.url}/graphql`, body, headers, connections: 16, seconds: perRound })
            : await load({ url: `${gw.url}/v1/events`, body: restBody, headers, connections: 16, seconds: perRound });
          part.cpu = addCpu(part.cpu, cpuSince(cpu0, gw.pid));
          part.calls += r.requests;
          part.seconds += r.requests / Math.max(r.perSecond, 1e-9);
          part.p50.push(r.p50);
          part.errors += r.errors + r.non2xx;
        }
      }
      const [g, r, bp] = parts.map((x) => ({ perSecond: x.calls / x.seconds, ...x })) as [Part & { perSecond: number }, Part & { perSecond: number }, Part & { perSecond: number }];
      const p50 = (x: Part) => Math.round(x.p50.reduce((a, b) => a + b, 0) / x.p50.length);
      row('2 batched ingest', 'recordActivities × 100', g.perSecond * 100, 'events/s', `p50 ${p50(g)} ms per call, errors ${g.errors}; ${formatCpu(g.cpu!, g.seconds)}`);
      row('2 batched ingest', 'POST /v1/events × 100', r.perSecond * 100, 'events/s', `p50 ${p50(r)} ms per call, errors ${r.errors}; ${formatCpu(r.cpu!, r.seconds)}`);
      row('2 batched ingest', 'bare KafkaJS sendBatch × 100 (ceiling)', bp.perSecond * 100, 'events/s');
      // Both ways of batching are judged, each on its own.
      ratio('batched ingest recordActivities events/s', g.perSecond * 100, 50_000);
      ratio('batched ingest recordActivities / bare producer', g.perSecond / bp.perSecond, 0.5);
      ratio('batched ingest POST /v1/events events/s', r.perSecond * 100, 50_000);
      ratio('batched ingest POST /v1/events / bare producer', r.perSecond / bp.perSecond, 0.5);
    } finally {
      await gw.stop();
    }
  });
}

/** Scenario 3: a pre-filled topic consumed into PostgreSQL, against plain multi-row inserts. */
async function processing(): Promise<void> {
  const n = Number(values.events);
  await withDb(async (db) => {
    const p = prefix();
    const port = await freePort();
    // The gateway role creates the topics; then the topic is filled and a processor started.
    const creator = await gateway(gatewayEnv(p, db, port, { ROLES: 'gateway' }), 'topic-creator');
    await creator.stop();
    const fill = start(compiled('bare-producer'), { KAFKA_BROKERS: BROKERS }, ['fill', `${p}.activities`, String(n), '500', '8']);
    await new Promise((res) => fill.child.once('exit', res));
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    const count = async () => Number((await client.query('SELECT count(*)::int AS n FROM activity_events')).rows[0].n);
    // Progress is polled by max(seq), one probe of the primary key. count(*) reads the whole table
    // (about 20 ms at 100,000 rows here): polled every 50 ms it took PostgreSQL's time from the
    // processor being measured. max(seq) is never below the count (seq starts at 1 in a new
    // schema; gaps only raise it), so the count is taken only once max(seq) says n may be there.
    const highest = async () => Number((await client.query('SELECT coalesce(max(seq), 0)::int AS n FROM activity_events')).rows[0].n);
    const proc = start(join(ROOT, 'dist', 'src', 'main.js'), gatewayEnv(p, db, await freePort(), { ROLES: 'processor' }), [], gatewayNodeArgs('processing'));
    try {
      await until(async () => ((await highest()) > 0 ? true : undefined), 120_000, 'the first stored events');
      const t0 = performance.now();
      const cpu0 = cpuReading(proc.pid);
      const c0 = await count();
      const progress = setInterval(() => void highest().then((c) => process.stderr.write(`processing: up to ${c} stored after ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)), 1000);
      progress.unref();
      await until(async () => ((await highest()) >= n && (await count()) >= n ? true : undefined), 600_000, `${n} stored events`);
      clearInterval(progress);
      const rate = (n - c0) / ((performance.now() - t0) / 1000);
      row('3 processing', `processor, ${n} events`, rate, 'events/s', cpuShare(cpu0, (performance.now() - t0) / 1000, proc.pid));

      // Ceiling: the same rows by plain INSERT … SELECT unnest, 2,000 per statement, each time
      // into a new table; the median of three runs (one run alone swings by half on this machine).
      const rowsAll = (await client.query('SELECT * FROM activity_events ORDER BY seq LIMIT 100000')).rows as Array<Record<string, unknown>>;
      const plainRun = async (table: string): Promise<number> => {
        await client.query(`CREATE TABLE ${table} (LIKE activity_events INCLUDING DEFAULTS INCLUDING INDEXES)`);
        const t1 = performance.now();
        for (let i = 0; i < rowsAll.length; i += 2000) {
          const b = rowsAll.slice(i, i + 2000);
          await client.query(
            `INSERT INTO ${table} (event_id, user_id, type, occurred_at, received_at, session_id, page_url, properties, device, location, ip_address, user_agent, kafka_partition, kafka_offset)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[], $10::jsonb[], $11::text[], $12::text[], $13::int[], $14::bigint[])`,
            [
              b.map((x) => `plain-${x.event_id}`), b.map((x) => x.user_id), b.map((x) => x.type), b.map((x) => x.occurred_at), b.map((x) => x.received_at),
              b.map((x) => x.session_id), b.map((x) => x.page_url), b.map((x) => JSON.stringify(x.properties)), b.map((x) => JSON.stringify(x.device)),
              b.map((x) => JSON.stringify(x.location)), b.map((x) => x.ip_address), b.map((x) => x.user_agent), b.map((x) => x.kafka_partition), b.map((x) => x.kafka_offset),
            ],
          );
        }
        return rowsAll.length / ((performance.now() - t1) / 1000);
      };
      const plainRuns: number[] = [];
      for (const k of [1, 2, 3]) plainRuns.push(await plainRun(`plain_rows_${k}`));
      const plain = [...plainRuns].sort((a, b) => a - b)[1]!;
      row('3 processing', 'plain multi-row inserts (ceiling, median of 3)', plain, 'rows/s', `runs ${plainRuns.map((x) => Math.round(x)).join(', ')}`);
      ratio('processing events/s', rate, 20_000);
      ratio('processing / plain inserts', rate / plain, 0.5);
    } finally {
      await proc.stop();
      if (process.env.BENCH_LOG) writeFileSync(process.env.BENCH_LOG, proc.output());
      await client.end();
    }
  });
}

/** Scenarios 4 and 5 need subscribers: a gateway with every role, subscribers in their own process. */
async function withFullGateway(label: string, f: (url: string, pid: number, db: string) => Promise<void>): Promise<void> {
  await withDb(async (db) => {
    const gw = await gateway(gatewayEnv(prefix(), db, await freePort()), label);
    try {
      await f(gw.url, gw.pid, db);
    } finally {
      await gw.stop();
    }
  });
}

async function subscribers(url: string, count: number, mode: 'latency' | 'count', from: number, token = ANALYST) {
  const p = start(compiled('subscribers'), {}, [url, token, String(count), mode, String(from)]);
  await until(async () => (/ready \d+/.test(p.output()) ? true : undefined), 300_000, `${count} subscribers`);
  await until(async () => ((await metric(url, 'subscriptions_active')) >= count ? true : undefined), 120_000, 'the subscriptions to register');
  return {
    stop: async () => {
      p.child.kill('SIGTERM');
      await new Promise((r) => p.child.once('exit', r));
      return JSON.parse(p.output().trim().split('\n').at(-1)!) as { connected: number; received: number; samples: number; p50: number; p99: number; max: number };
    },
  };
}

/**
 * Scenario 4: 500 events/s from 1,000 users, each watching its own events (user tokens are
 * narrowed to themselves): from sending the mutation to the subscriber receiving the event.
 */
async function endToEnd(): Promise<void> {
  await withFullGateway('end-to-end', async (url, pid, db) => {
    const hops = ['kafka_publish_seconds', 'kafka_publish_batch_records', 'processor_group_events', 'processor_store_seconds', 'processor_publish_seconds'];
    const { s, sent, cpu, before, after } = await latencyRun(url, pid, hops);
    const mean = (h: string) => (after[`${h}_sum`]! - before[`${h}_sum`]!) / Math.max(1, after[`${h}_count`]! - before[`${h}_count`]!);
    row('4 end to end', `latency p50 (${values.rate} events/s, ${s.connected} users watching their own)`, s.p50, 'ms', `${sent.accepted}/${sent.sent} accepted, ${s.received} delivered`);
    row('4 end to end', 'latency p99', s.p99, 'ms', cpu);
    row('4 end to end', 'latency max', s.max, 'ms');
    // Where the time goes: receipt to stored (recording, broker, processor).
    const q = await storedLatency(db, `SELECT extract(epoch FROM processed_at - received_at) * 1000 AS ms FROM activity_events WHERE page_url = '/e2e' AND NOT properties ? 'warm'`);
    row('4 end to end', 'of which received to stored, p50', q.p50, 'ms', `p99 ${r2(q.p99)} ms`);
    row('4 end to end', 'gateway produce request, mean', mean('kafka_publish_seconds') * 1000, 'ms', `${r2(mean('kafka_publish_batch_records'))} records; processor groups of ${r2(mean('processor_group_events'))} events, transaction ${r2(mean('processor_store_seconds') * 1000)} ms, publish ${r2(mean('processor_publish_seconds') * 1000)} ms (means)`);
    ratio('end to end p50 ms', s.p50, 20, false);
    ratio('end to end p99 ms', s.p99, 100, false);
  });
  // Floor in the same run: the same hops wired by hand (benchmarks/bare-chain.ts), same rate,
  // subscribers and sender.
  await settle();
  await withDb(async (db) => {
    const port = await freePort();
    const chain = start(compiled('bare-chain'), { KAFKA_BROKERS: BROKERS }, [String(port), db, prefix()]);
    try {
      await until(async () => (chain.output().includes('ready') ? true : undefined), 60_000, 'the hand-wired chain');
      const url = `http://127.0.0.1:${port}`;
      const { s, sent, cpu } = await latencyRun(url, chain.pid);
      row('4 end to end', 'hand-wired chain of the same hops (floor): p50', s.p50, 'ms', `${sent.accepted}/${sent.sent} accepted, ${s.received} delivered`);
      row('4 end to end', 'hand-wired chain: p99', s.p99, 'ms', cpu.replace('gateway', 'chain'));
      row('4 end to end', 'hand-wired chain: max', s.max, 'ms');
      const q = await storedLatency(db, `SELECT extract(epoch FROM stored_at - (event->>'receivedAt')::timestamptz) * 1000 AS ms FROM bare_chain_events WHERE NOT event->'properties' ? 'warm'`);
      row('4 end to end', 'hand-wired chain: received to stored, p50', q.p50, 'ms', `p99 ${r2(q.p99)} ms`);
    } finally {
      await chain.stop();
    }
  });
}

/** Subscribers first, then one sender: a warm-up at the same rate through the whole path (its events are marked and not sampled), then the measured run. */
async function latencyRun(url: string, pid: number, histograms: string[] = []) {
  const read = async () => {
    const r: Record<string, number> = {};
    for (const h of histograms) for (const k of [`${h}_sum`, `${h}_count`]) r[k] = await metric(url, k);
    return r;
  };
  const subs = await subscribers(url, 1000, 'latency', 0, `per-user:${SECRET}`);
  // Starting cold, the pipeline falls behind for a few seconds (JIT, connection pools) and then
  // drains; the warm-up is long enough for that to be over (BENCH_TRACE shows it per second).
  const warmup = Math.max(WARMUP, Math.min(8, SECONDS));
  const sender = start(compiled('sender'), {}, [url, SERVICE, values.rate!, String(SECONDS), String(warmup)]);
  await sleep(warmup * 1000);
  const before = await read();
  const cpu0 = cpuReading(pid);
  const t0 = performance.now();
  await new Promise((r) => sender.child.once('exit', r));
  const cpu = cpuShare(cpu0, (performance.now() - t0) / 1000, pid);
  await sleep(1000);
  const after = await read();
  const s = await subs.stop();
  const sent = JSON.parse(sender.output().trim().split('\n').at(-1)!) as { sent: number; accepted: number };
  return { s, sent, cpu, before, after };
}

async function storedLatency(db: string, sql: string): Promise<{ p50: number; p99: number }> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    const q = await c.query(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99 FROM (${sql}) t`);
    return { p50: Number(q.rows[0].p50), p99: Number(q.rows[0].p99) };
  } finally {
    await c.end();
  }
}

/**
 * A gateway process serving HTTP and WebSocket clients (ROLES=gateway) and a second process with
 * the processor and the fraud detector, on the same topics and database: the deployment where the
 * gateway's own CPU can be read apart from processing.
 */
async function withSplitGateway(label: string, f: (url: string, pid: number, db: string) => Promise<void>): Promise<void> {
  await withDb(async (db) => {
    const p = prefix();
    const gw = await gateway(gatewayEnv(p, db, await freePort(), { ROLES: 'gateway' }), label);
    const workers = start(join(ROOT, 'dist', 'src', 'main.js'), gatewayEnv(p, db, await freePort(), { ROLES: 'processor,fraud' }), [], gatewayNodeArgs(`${label}-workers`));
    try {
      await f(gw.url, gw.pid, db);
    } finally {
      await workers.stop();
      await gw.stop();
    }
  });
}

/**
 * Scenario 5: many idle-ish subscribers and a steady stream: memory and CPU per delivered message,
 * at two rates on the same subscribers. At the first (about 50,000 deliveries a second) events are
 * mostly further apart than one fan-out to every socket takes, and most messages are a write of
 * their own; at four times that they come closer together, and what a socket gets in one turn
 * leaves in one write: the capacity the gateway has when it is the bottleneck.
 */
async function fanout(): Promise<void> {
  const n = Number(values.subscribers);
  let steadyMicros = 0;
  await withSplitGateway('fanout', async (url, pid) => {
    const rssBefore = rssMb(pid);
    const subs = await subscribers(url, n, 'count', 0);
    const rssIdle = rssMb(pid);
    const base = Math.max(1, Math.round(50_000 / n));
    const phase = async (rate: number) => {
      await settle();
      const delivered0 = await metric(url, 'subscription_messages_total');
      const writes0 = await metric(url, 'subscription_writes_total');
      const cpu0 = cpuSeconds(pid);
      const sender = start(compiled('sender'), {}, [url, SERVICE, String(rate), String(SECONDS)]);
      await new Promise((r) => sender.child.once('exit', r));
      const { accepted } = JSON.parse(sender.output().trim().split('\n').at(-1)!) as { accepted: number };
      // Until every event accepted has been delivered to every subscriber (or 30 s).
      const target = delivered0 + accepted * n;
      await until(async () => ((await metric(url, 'subscription_messages_total')) >= target ? true : undefined), 30_000, 'the fan-out to finish').catch(() => undefined);
      const cpu = cpuSeconds(pid) - cpu0;
      const delivered = (await metric(url, 'subscription_messages_total')) - delivered0;
      const writes = (await metric(url, 'subscription_writes_total')) - writes0;
      return { rate, cpu, delivered, writes, micros: (cpu / Math.max(1, delivered)) * 1e6, active: await metric(url, 'subscriptions_active') };
    };
    const steady = await phase(base);
    steadyMicros = steady.micros;
    const fast = await phase(base * 4);
    const s = await subs.stop();
    row('5 fan-out', `gateway RSS with ${s.connected} subscribers`, rssIdle, 'MB', `${r2(rssBefore)} MB before they connected`);
    for (const p of [steady, fast]) {
      row('5 fan-out', `delivered, ${p.rate} events/s to all`, p.delivered / SECONDS, 'messages/s', `${r2(p.delivered / Math.max(1, p.writes))} messages a write; ${p.active} subscriptions active after`);
      row('5 fan-out', `gateway CPU per delivered message, ${p.rate} events/s`, p.micros, 'µs', 'gateway process (ROLES=gateway: recording, fan-out consumer, subscribers); processor and fraud detector in a second process');
    }
    row('5 fan-out', 'received by the clients', s.received, 'messages', `${steady.delivered + fast.delivered} delivered`);
    ratio(`RSS MB with ${n} subscribers`, rssIdle, 600, false);
    ratio(`CPU µs per delivered message, ${steady.rate} events/s`, steady.micros, 10, false);
    ratio(`CPU µs per delivered message, ${fast.rate} events/s`, fast.micros, 10, false);
  });
  // References: the same number of sockets and messages a second through a bare `ws` server, and
  // as plain TCP writes of the same frames (the floor of one write a message).
  const rate = Math.max(1, Math.round(50_000 / n));
  /** Runs a reference server and its clients until the server prints its figures, and returns them. */
  const reference = async <T>(script: string, serverArgs: (port: number) => string[], clients: (port: number) => [string, string[]]): Promise<T> => {
    await settle();
    const port = await freePort();
    const args = serverArgs(port);
    const server = start(compiled(script), {}, args);
    await until(async () => (server.output().includes('ready') ? true : undefined), 30_000, `the reference server ${script} ${args.join(' ')}`);
    const [clientScript, clientArgs] = clients(port);
    const readers = start(compiled(clientScript), {}, clientArgs);
    await new Promise((r) => server.child.once('exit', r));
    await readers.stop();
    return JSON.parse(server.output().trim().split('\n').at(-1)!) as T;
  };
  type Sent = { sent: number; cpuMicrosPerMessage: number };
  const bare = (kind: 'ws' | 'tcp') =>
    reference<Sent>('raw-fanout', (port) => ['server', String(port), String(n), String(rate), String(SECONDS), kind], (port) => ['raw-fanout', ['clients', String(port), String(n), kind]]);
  const ws = await bare('ws');
  row('5 fan-out', 'bare ws server, pre-serialized message (reference)', ws.cpuMicrosPerMessage, 'µs', `CPU per message sent, ${ws.sent} sent to ${n} sockets; the gateway at ${rate} events/s ${r2(steadyMicros / ws.cpuMicrosPerMessage)} of it`);
  const tcp = await bare('tcp');
  // The issue's yardstick: a plain graphql-ws and type-graphql server executing the subscription
  // for every subscriber, at a fifth of the rate (it spends several times as much per message).
  const plainRate = Math.max(1, Math.round(rate / 5));
  const plain = await reference<{ delivered: number; cpuMicrosPerMessage: number }>('plain-subscriptions', (port) => [String(port), String(n), String(plainRate), String(SECONDS)], (port) => [
    'subscribers',
    [`http://127.0.0.1:${port}`, SERVICE, String(n), 'count', '0'],
  ]);
  row('5 fan-out', 'plain graphql-ws + type-graphql server, executing per subscriber (reference)', plain.cpuMicrosPerMessage, 'µs', `CPU per delivered message, ${plain.delivered} delivered at ${plainRate} events/s to ${n} subscribers; the gateway at ${rate} events/s ${r2(steadyMicros / plain.cpuMicrosPerMessage)} of it`);
  row('5 fan-out', 'plain TCP write of the framed message (floor)', tcp.cpuMicrosPerMessage, 'µs', `CPU per write, one a message, ${tcp.sent} to ${n} sockets, no WebSocket library; the gateway at ${rate} events/s ${r2(steadyMicros / tcp.cpuMicrosPerMessage)} of it`);
}

/** Scenario 6: processedEvents(first: 100) with user fields over a populated store. */
async function queries(): Promise<void> {
  await withFullGateway('queries', async (url) => {
    const fill = start(compiled('sender'), {}, [url, SERVICE, '1000', '5']);
    await new Promise((r) => fill.child.once('exit', r));
    const filled = JSON.parse(fill.output().trim().split('\n').at(-1)!) as { sent: number; accepted: number };
    if (filled.accepted < 1000) throw new Error(`only ${filled.accepted} of ${filled.sent} events were accepted to fill the store`);
    await until(async () => {
      const r = await fetch(`${url}/graphql`, { method: 'POST', headers: { ...json, authorization: `Bearer ${ANALYST}` }, body: JSON.stringify({ query: '{ processedEvents(first: 1) { totalCount } }' }) });
      const b = (await r.json()) as { data: { processedEvents: { totalCount: number } } };
      return b.data.processedEvents.totalCount >= filled.accepted ? true : undefined;
    }, 120_000, `${filled.accepted} stored events`);
    const body = JSON.stringify({ query: '{ processedEvents(first: 100) { edges { node { eventId type occurredAt user { totalEvents segment } } } pageInfo { endCursor } } }' });
    const headers = { ...json, authorization: `Bearer ${ANALYST}` };
    await load({ url: `${url}/graphql`, body, headers, connections: 16, seconds: WARMUP });
    const s0 = await metric(url, 'store_statements');
    const r = await load({ url: `${url}/graphql`, body, headers, connections: 16, seconds: SECONDS });
    const statements = (await metric(url, 'store_statements')) - s0;
    row('6 queries', 'processedEvents(first: 100) with user', r.perSecond, 'req/s', `p50 ${r.p50} ms, p99 ${r.p99} ms`);
    row('6 queries', 'SQL statements per request', statements / Math.max(1, r.requests), 'statements', 'the processor writes meanwhile too');
  });
}

const SCENARIOS: Record<string, () => Promise<void>> = {
  'ingest-single': ingestSingle,
  'ingest-batch': ingestBatch,
  processing,
  'end-to-end': endToEnd,
  fanout,
  queries,
};

async function main(): Promise<void> {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'kafka.mjs'), 'up'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the local broker did not start');
  const started = new Date();
  for (const [name, run] of Object.entries(SCENARIOS)) {
    if (only && !only.has(name)) continue;
    process.stderr.write(`== ${name} (machine at ${(await settle()).toFixed(2)} cores before it)\n`);
    try {
      await run();
    } catch (err) {
      row(name, 'FAILED', 0, '', (err as Error).message.split('\n')[0]);
    }
  }
  const width = Math.max(...rows.map((x) => x.figure.length));
  process.stdout.write(`\nbench ${started.toISOString()} (${SECONDS} s per run after ${WARMUP} s warm-up; ${PG_URL.replace(/\/\/.*@/, '//')})\n\n`);
  for (const x of rows) process.stdout.write(`${x.scenario.padEnd(18)} ${x.figure.padEnd(width)}  ${String(x.value).padStart(10)} ${x.unit}${x.note ? `   (${x.note})` : ''}\n`);
  process.stdout.write('\ntargets\n');
  for (const x of ratios) process.stdout.write(`${x.met ? 'met    ' : 'MISSED '} ${x.name.padEnd(48)} ${String(x.value).padStart(10)}  (${x.target})\n`);
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  const file = join(ROOT, 'bench-results', `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ started, seconds: SECONDS, rows, ratios }, null, 2));
  process.stdout.write(`\nresults: ${file}\n`);
  const deleted = await deleteRunTopics().catch((err: Error) => {
    process.stderr.write(`bench: could not delete this run's topics and groups: ${err.message}\n`);
    return { topics: 0, groups: 0 };
  });
  process.stderr.write(`bench: deleted ${deleted.topics} topics and ${deleted.groups} consumer groups of this run\n`);
}

void main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
