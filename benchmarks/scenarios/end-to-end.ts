import pg from 'pg';
import { cpuReading, cpuShare, settle } from '../harness/accounting';
import { startSender, subscribers, type SenderResult } from '../harness/clients';
import { BROKERS } from '../harness/config';
import { withDb } from '../harness/database';
import { metric } from '../harness/metrics';
import { compiled, freePort, result, startReady } from '../harness/processes';
import { PER_USER, SERVICE } from '../harness/tokens';
import { sleep } from '../harness/wait';
import { r2 } from '../report';
import { withFullGateway } from './deployments';
import type { BenchOptions, Scenario } from './scenario';

const SCENARIO = '4 end to end';
const USERS = 1000;

/**
 * Scenario 4: events at a fixed rate from 1,000 users, each watching its own events (user tokens
 * are narrowed to themselves): from sending the mutation to the subscriber receiving the event.
 * Then the floor in the same run: the same hops wired by hand (benchmarks/bare-chain.ts), with
 * the same rate, subscribers and sender.
 */
export const endToEnd: Scenario = async ({ options, report, topics }) => {
  await withFullGateway(topics, 'end-to-end', async (url, pid, db) => {
    const hops = ['kafka_publish_seconds', 'kafka_publish_batch_records', 'processor_group_events', 'processor_store_seconds', 'processor_publish_seconds'];
    const { s, sent, cpu, before, after } = await latencyRun(options, url, pid, hops);
    const mean = (h: string) => (after[`${h}_sum`]! - before[`${h}_sum`]!) / Math.max(1, after[`${h}_count`]! - before[`${h}_count`]!);
    report.row(SCENARIO, `latency p50 (${options.rate} events/s, ${s.connected} users watching their own)`, s.p50, 'ms', `${sent.accepted}/${sent.sent} accepted, ${s.received} delivered`);
    report.row(SCENARIO, 'latency p99', s.p99, 'ms', cpu);
    report.row(SCENARIO, 'latency max', s.max, 'ms');
    // Where the time goes: receipt to stored (recording, broker, processor).
    const q = await storedLatency(db, `SELECT extract(epoch FROM processed_at - received_at) * 1000 AS ms FROM activity_events WHERE page_url = '/e2e' AND NOT properties ? 'warm'`);
    report.row(SCENARIO, 'of which received to stored, p50', q.p50, 'ms', `p99 ${r2(q.p99)} ms`);
    report.row(SCENARIO, 'gateway produce request, mean', mean('kafka_publish_seconds') * 1000, 'ms', `${r2(mean('kafka_publish_batch_records'))} records; processor groups of ${r2(mean('processor_group_events'))} events, transaction ${r2(mean('processor_store_seconds') * 1000)} ms, publish ${r2(mean('processor_publish_seconds') * 1000)} ms (means)`);
    report.ratio('end to end p50 ms', s.p50, 20, false);
    report.ratio('end to end p99 ms', s.p99, 100, false);
  });
  await settle();
  await withDb(async (db) => {
    const port = await freePort();
    const chain = await startReady(compiled('bare-chain'), { KAFKA_BROKERS: BROKERS }, [String(port), db, topics.prefix()], 'the hand-wired chain', 60_000);
    try {
      const { s, sent, cpu } = await latencyRun(options, `http://127.0.0.1:${port}`, chain.pid);
      report.row(SCENARIO, 'hand-wired chain of the same hops (floor): p50', s.p50, 'ms', `${sent.accepted}/${sent.sent} accepted, ${s.received} delivered`);
      report.row(SCENARIO, 'hand-wired chain: p99', s.p99, 'ms', cpu.replace('gateway', 'chain'));
      report.row(SCENARIO, 'hand-wired chain: max', s.max, 'ms');
      const q = await storedLatency(db, `SELECT extract(epoch FROM stored_at - (event->>'receivedAt')::timestamptz) * 1000 AS ms FROM bare_chain_events WHERE NOT event->'properties' ? 'warm'`);
      report.row(SCENARIO, 'hand-wired chain: received to stored, p50', q.p50, 'ms', `p99 ${r2(q.p99)} ms`);
    } finally {
      await chain.stop();
    }
  });
};

/**
 * Subscribers first, then one sender: a warm-up at the same rate through the whole path (its
 * events are marked and not sampled), then the measured run. `histograms` are read from the
 * server's /metrics before and after the measured run.
 */
async function latencyRun({ seconds, warmup: minWarmup, rate }: BenchOptions, url: string, pid: number, histograms: string[] = []) {
  const read = async () => {
    const r: Record<string, number> = {};
    for (const h of histograms) for (const k of [`${h}_sum`, `${h}_count`]) r[k] = await metric(url, k);
    return r;
  };
  const subs = await subscribers(url, USERS, 'latency', 0, PER_USER);
  // Starting cold, the pipeline falls behind for a few seconds (JIT, connection pools) and then
  // drains; the warm-up is long enough for that to be over (BENCH_TRACE shows it per second).
  const warmup = Math.max(minWarmup, Math.min(8, seconds));
  const sender = startSender(url, SERVICE, rate, seconds, warmup);
  await sleep(warmup * 1000);
  const before = await read();
  const cpu0 = cpuReading(pid);
  const t0 = performance.now();
  await sender.exited;
  const cpu = cpuShare(cpu0, (performance.now() - t0) / 1000, pid);
  // Events still on their way when the sender ends count in the histograms too.
  await sleep(1000);
  const after = await read();
  const s = await subs.stop();
  const sent = result<SenderResult>(sender);
  return { s, sent, cpu, before, after };
}

/** Percentiles of the `ms` column of `sql`'s rows, in the database at `db`. */
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
