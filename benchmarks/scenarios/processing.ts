import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { cpuReading, cpuShare } from '../harness/accounting';
import { BROKERS } from '../harness/config';
import { withDb } from '../harness/database';
import { gateway, gatewayEnv, gatewayProcess } from '../harness/gateway';
import { compiled, freePort, runToEnd } from '../harness/processes';
import { until } from '../harness/wait';
import type { Scenario } from './scenario';

const SCENARIO = '3 processing';

/** Scenario 3: a pre-filled topic consumed into PostgreSQL, against plain multi-row inserts. */
export const processing: Scenario = async ({ options: { events: n }, report, topics }) => {
  await withDb(async (db) => {
    const p = topics.prefix();
    const port = await freePort();
    // The gateway role creates the topics; then the topic is filled and a processor started.
    const creator = await gateway(gatewayEnv(p, db, port, { ROLES: 'gateway' }), 'topic-creator');
    await creator.stop();
    await runToEnd(compiled('bare-producer'), { KAFKA_BROKERS: BROKERS }, ['fill', `${p}.activities`, String(n), '500', '8']);
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    const count = async () => Number((await client.query('SELECT count(*)::int AS n FROM activity_events')).rows[0].n);
    // Progress is polled by max(seq), one probe of the primary key: count(*) reads the whole
    // table, and polled often it took PostgreSQL's time from the processor being measured.
    // max(seq) is never below the count (seq starts at 1 in a new schema; gaps only raise it), so
    // the count is taken only once max(seq) says n may be there.
    const highest = async () => Number((await client.query('SELECT coalesce(max(seq), 0)::int AS n FROM activity_events')).rows[0].n);
    const proc = gatewayProcess(gatewayEnv(p, db, await freePort(), { ROLES: 'processor' }), 'processing');
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
      report.row(SCENARIO, `processor, ${n} events`, rate, 'events/s', cpuShare(cpu0, (performance.now() - t0) / 1000, proc.pid));

      // Ceiling: the same rows by plain INSERT … SELECT unnest, 2,000 per statement, each time
      // into a new table; the median of three runs, as one run alone swings widely on this machine.
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
      report.row(SCENARIO, 'plain multi-row inserts (ceiling, median of 3)', plain, 'rows/s', `runs ${plainRuns.map((x) => Math.round(x)).join(', ')}`);
      report.ratio('processing events/s', rate, 20_000);
      report.ratio('processing / plain inserts', rate / plain, 0.5);
    } finally {
      await proc.stop();
      if (process.env.BENCH_LOG) writeFileSync(process.env.BENCH_LOG, proc.output());
      await client.end();
    }
  });
};
