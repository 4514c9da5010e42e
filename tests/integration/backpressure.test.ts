import { ConsumerGroups } from '../../src/kafka/topics';
import { Leftovers, RECORD_MANY, graphql, sql, startGateway, token, waitFor, type TestGateway } from '../support/harness';
import { ofGroup, scrapedLag } from '../support/lag-metrics';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());
const svc = token('svc', ['service']);
const analyst = token('ana', ['analyst']);

/** The overload: this long, this many batches in flight at once, of this many events each. */
const LOAD_MS = 6_000;
const CONNECTIONS = 8;
const BATCH = 100;
/** Recording must answer within this during the overload (generous: CI machines are slow). */
const RECORD_WITHIN_MS = 2_000;

const RECORD_ONE = `mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId duplicate } }`;


async function processingLag(gw: TestGateway): Promise<number | null> {
  const r = await graphql(gw.url, '{ dashboard { processingLag } }', {}, analyst);
  if (r.errors) throw new Error(r.errors[0]!.message);
  return r.data.dashboard.processingLag;
}

describe('an overload of batched ingest', () => {
  it('waits in Kafka while recording stays fast, then drains, with every accepted event stored once', async () => {
    // Fetches of one record batch per partition, one partition at a time: processing cannot
    // grow its groups to catch up while the load lasts, so it falls behind.
    const gw = await startGateway(leftovers, {
      RECORD_RATE_PER_SECOND: '0',
      CONSUMER_MAX_BYTES_PER_PARTITION: '1024',
      CONSUMER_CONCURRENCY: '1',
    });
    const accepted: string[] = [];
    const recordLatencies: number[] = [];
    let maxLag = 0;
    const until = Date.now() + LOAD_MS;

    const load = async (connection: number): Promise<void> => {
      for (let round = 0; Date.now() < until; round++) {
        const inputs = Array.from({ length: BATCH }, (_, i) => ({ userId: `bp-${connection}-${i % 12}`, type: 'CLICK', pageUrl: `/r${round}` }));
        const r = await graphql(gw.url, RECORD_MANY, { inputs }, svc);
        if (r.errors) throw new Error(`batch refused: ${r.errors[0]!.message}`);
        for (const receipt of r.data.recordActivities) {
          if (receipt.duplicate) throw new Error(`a fresh event came back as a duplicate: ${receipt.eventId}`);
          accepted.push(receipt.eventId);
        }
      }
    };
    // While the load runs: one event at a time, timed, and the backlog as the dashboard sees it.
    const watch = async (): Promise<void> => {
      while (Date.now() < until) {
        const t0 = performance.now();
        const r = await graphql(gw.url, RECORD_ONE, { input: { userId: 'bp-single', type: 'PAGE_VIEW', pageUrl: '/single' } }, svc);
        recordLatencies.push(performance.now() - t0);
        if (r.errors) throw new Error(`single record refused: ${r.errors[0]!.message}`);
        accepted.push(r.data.recordActivity.eventId);
        maxLag = Math.max(maxLag, (await processingLag(gw)) ?? 0);
      }
    };
    await Promise.all([...Array.from({ length: CONNECTIONS }, (_, c) => load(c)), watch()]);

    // Ingest outran processing: events waited in Kafka.
    expect(maxLag).toBeGreaterThan(BATCH * CONNECTIONS);
    expect(recordLatencies.length).toBeGreaterThan(3);
    expect(Math.max(...recordLatencies)).toBeLessThan(RECORD_WITHIN_MS);

    const { topics, groupPrefix } = gw.config.kafka;
    const groups = [`${groupPrefix}${ConsumerGroups.processor}`, `${groupPrefix}${ConsumerGroups.fraud}`];
    await waitFor(async () => {
      const scraped = await scrapedLag(gw.url);
      const lag = groups.flatMap((g) => ofGroup(scraped, g, topics.activity));
      return lag.length === groups.length * gw.config.kafka.partitions && lag.every((s) => s.lag === 0) ? true : undefined;
    }, 120_000, 'the processor and the fraud detector to read 0 lag on every partition');
    expect(await processingLag(gw)).toBe(0);

    expect(new Set(accepted).size).toBe(accepted.length);
    const [stored] = await sql<{ rows: number; ids: number; accepted: number }>(
      gw,
      'SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS ids, count(*) FILTER (WHERE event_id = ANY($1))::int AS accepted FROM activity_events',
      [accepted],
    );
    // Every accepted event stored, none twice, nothing else.
    expect(stored).toEqual({ rows: accepted.length, ids: accepted.length, accepted: accepted.length });
  }, 240_000);
});
