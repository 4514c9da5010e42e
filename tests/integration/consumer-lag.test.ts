import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { ConsumerGroups } from '../../src/kafka/topics';
import { Leftovers, PG_URL, graphql, startGateway, token, waitFor, type TestGateway } from '../support/harness';
import { testKafka } from '../support/kafka';
import { ofGroup, registryLag, scrapedLag, total, type LagSeries } from '../support/lag-metrics';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());
const analyst = token('ana', ['analyst']);
const BURST = 3_000;

let kafka: Kafka;
beforeAll(() => {
  kafka = testKafka();
});

async function storedCount(gw: TestGateway): Promise<number> {
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${gw.storeSchema}` });
  await c.connect();
  try {
    return (await c.query<{ n: number }>('SELECT count(*)::int n FROM activity_events')).rows[0]!.n;
  } finally {
    await c.end();
  }
}

/** Writes `n` valid activity events straight to the activity topic, spread over users (and so partitions). */
async function produceBurst(gw: TestGateway, n: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let start = 0; start < n; start += 500) {
      const messages = Array.from({ length: Math.min(500, n - start) }, (_, i) => {
        const userId = `lag-user-${(start + i) % 60}`;
        const at = new Date().toISOString();
        const value = { schemaVersion: 1, eventId: randomUUID(), userId, type: 'PAGE_VIEW', occurredAt: at, receivedAt: at, sessionId: 's', contentId: null, pageUrl: '/burst', referrer: null, properties: {}, device: null, location: null, ipAddress: null, userAgent: null };
        return { key: userId, value: JSON.stringify(value) };
      });
      await producer.send({ topic: gw.config.kafka.topics.activity, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

async function processingLag(gw: TestGateway): Promise<number | null> {
  const r = await graphql(gw.url, '{ dashboard { processingLag } }', {}, analyst);
  if (r.errors) throw new Error(r.errors[0]!.message);
  return r.data.dashboard.processingLag;
}

const allZero = (series: LagSeries[]): boolean => series.length > 0 && series.every((s) => s.lag === 0);

describe('consumer lag', () => {
  it('is on /metrics for every group and in the dashboard, positive under a backlog and zero once it is processed', async () => {
    // The gateway alone first: the burst waits in the topic with no processor to read it.
    const gw = await startGateway(leftovers, { ROLES: 'gateway' });
    const { topics, groupPrefix } = gw.config.kafka;
    const processor = `${groupPrefix}${ConsumerGroups.processor}`;
    const fraud = `${groupPrefix}${ConsumerGroups.fraud}`;
    const fanout = `${groupPrefix}${ConsumerGroups.fanout(gw.app.instanceId)}`;
    const partitions = [0, 1, 2];

    await produceBurst(gw, BURST);
    // No processor has committed anything: the whole burst is recorded and not processed.
    expect(await processingLag(gw)).toBe(BURST);
    const beforeProcessing = await scrapedLag(gw.url);
    // This process runs only the fan-out; it has read nothing yet and nothing was published.
    expect(ofGroup(beforeProcessing, fanout, topics.processed).map((s) => [s.partition, s.lag])).toEqual(partitions.map((p) => [p, 0]));
    expect(ofGroup(beforeProcessing, fanout, topics.alerts).map((s) => s.partition)).toEqual(partitions);
    expect(beforeProcessing.filter((s) => s.group === processor || s.group === fraud)).toEqual([]);

    // The processor and the fraud detector in a process of their own, the processor held after
    // its first store so that nothing it reads is committed until the gate opens.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const workers = await startGateway(leftovers, { ROLES: 'processor,fraud' }, { share: gw, afterStore: () => gate });
    const held = await waitFor(async () => {
      const s = await registryLag(workers.app);
      return ofGroup(s, fraud, topics.activity).length === partitions.length ? s : undefined;
    }, 20_000, 'the fraud group on the metrics');
    const heldActivity = ofGroup(held, processor, topics.activity);
    expect(heldActivity.map((s) => s.partition)).toEqual(partitions);
    expect(total(heldActivity)).toBe(BURST);
    expect(heldActivity.every((s) => s.lag > 0)).toBe(true);
    expect(ofGroup(held, processor, topics.alerts).map((s) => s.partition)).toEqual(partitions);
    expect(await processingLag(gw)).toBe(BURST);

    open();
    await waitFor(async () => {
      const s = await registryLag(workers.app);
      const mine = [...ofGroup(s, processor, topics.activity), ...ofGroup(s, processor, topics.alerts), ...ofGroup(s, fraud, topics.activity)];
      return mine.length === 3 * partitions.length && allZero(mine) ? true : undefined;
    }, 30_000, 'the processor and fraud groups to read 0 on every partition');
    await waitFor(async () => ((await processingLag(gw)) === 0 ? true : undefined), 10_000, 'the dashboard to read no processing lag');
    expect(await storedCount(gw)).toBe(BURST);
    // The processed events reached this gateway's fan-out, and it read them all.
    await waitFor(async () => {
      const s = ofGroup(await scrapedLag(gw.url), fanout, topics.processed);
      return s.length === partitions.length && allZero(s) ? true : undefined;
    }, 20_000, 'the fan-out to read 0 on every partition');
  }, 120_000);
});
