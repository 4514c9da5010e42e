import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { validateActivityValue } from '../../src/domain/event-schema';
import { Leftovers, startGateway, token, type TestGateway } from '../support/harness';
import { readTopic, recordCount, testKafka } from '../support/kafka';

const leftovers = new Leftovers();
let gw: TestGateway;
let kafka: Kafka;
beforeAll(async () => {
  gw = await startGateway(leftovers);
  kafka = testKafka();
});
afterAll(() => leftovers.dispose());

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

async function gql(query: string, variables: Record<string, unknown>, bearer: string | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: any[] } };
}

const RECORD = `mutation R($input: RecordActivityInput!) {
  recordActivity(input: $input) { eventId duplicate receivedAt topic partition offset }
}`;
const RECORD_MANY = `mutation M($inputs: [RecordActivityInput!]!) {
  recordActivities(inputs: $inputs) { eventId duplicate partition offset }
}`;

describe('recording through GraphQL', () => {
  it('publishes a recorded event keyed by user, with the contract headers and JSON, at the receipt position', async () => {
    const topic = gw.config.kafka.topics.activity;
    const r = await gql(
      RECORD,
      { input: { type: 'PRODUCT_VIEW', contentId: 'laptop', pageUrl: '/products/laptop', sessionId: 's1', properties: { price: 999.99 } } },
      token('alice'),
      { 'user-agent': IPHONE },
    );
    expect(r.body.errors).toBeUndefined();
    const receipt = r.body.data.recordActivity;
    expect(receipt).toMatchObject({ duplicate: false, topic });

    const [rec] = await readTopic(kafka, topic, 1);
    expect(rec!.key).toBe('alice');
    expect(rec!.partition).toBe(receipt.partition);
    expect(rec!.offset).toBe(receipt.offset);
    expect(rec!.headers).toEqual({ 'event-type': 'PRODUCT_VIEW', 'schema-version': '1', 'content-type': 'application/json' });
    expect(validateActivityValue(rec!.json)).toEqual([]);
    expect(rec!.json).toMatchObject({
      schemaVersion: 1,
      eventId: receipt.eventId,
      userId: 'alice',
      type: 'PRODUCT_VIEW',
      receivedAt: receipt.receivedAt,
      occurredAt: receipt.receivedAt,
      contentId: 'laptop',
      sessionId: 's1',
      properties: { price: 999.99 },
      ipAddress: '127.0.0.1',
      userAgent: IPHONE,
      device: { type: 'MOBILE', os: 'iOS', browser: 'Mobile Safari' },
    });
  });

  it('lands a batch in order per user, recorded by a service for several users', async () => {
    const users = ['u-a', 'u-b', 'u-c'];
    const inputs = Array.from({ length: 30 }, (_, i) => ({
      userId: users[i % 3],
      type: 'PAGE_VIEW',
      pageUrl: `/page/${i}`,
    }));
    const r = await gql(RECORD_MANY, { inputs }, token('ingest', ['service']));
    expect(r.body.errors).toBeUndefined();
    const receipts = r.body.data.recordActivities as Array<{ eventId: string; partition: number; offset: string }>;
    expect(receipts).toHaveLength(30);

    const topic = gw.config.kafka.topics.activity;
    const all = await readTopic(kafka, topic, 31);
    for (const user of users) {
      const mine = all.filter((x) => x.key === user);
      expect(mine.map((x) => x.json.pageUrl)).toEqual(inputs.filter((i) => i.userId === user).map((i) => i.pageUrl));
      expect(new Set(mine.map((x) => x.partition)).size).toBe(1);
      const offsets = mine.map((x) => Number(x.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    // Each receipt names the record that carries its event.
    for (const rc of receipts) {
      const rec = all.find((x) => x.json.eventId === rc.eventId)!;
      expect([rec.partition, rec.offset]).toEqual([rc.partition, rc.offset]);
    }
  });

  it('answers a retry with the same eventId as a duplicate with the first receipt, and publishes one record', async () => {
    const g2 = await startGateway(leftovers);
    const eventId = randomUUID();
    const input = { eventId, type: 'CLICK', pageUrl: '/x' };
    const first = await fetch(`${g2.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token('carol')}` },
      body: JSON.stringify({ query: RECORD, variables: { input } }),
    }).then((r) => r.json() as Promise<any>);
    const again = await Promise.all(
      [1, 2, 3].map(() =>
        fetch(`${g2.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token('carol')}` },
          body: JSON.stringify({ query: RECORD, variables: { input } }),
        }).then((r) => r.json() as Promise<any>),
      ),
    );
    expect(first.data.recordActivity.duplicate).toBe(false);
    for (const a of again) {
      expect(a.data.recordActivity).toEqual({ ...first.data.recordActivity, duplicate: true });
    }
    // Another user may not reuse the key.
    const other = await fetch(`${g2.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token('mallory')}` },
      body: JSON.stringify({ query: RECORD, variables: { input } }),
    }).then((r) => r.json() as Promise<any>);
    expect(other.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(other.errors[0].extensions.errors[0].path).toBe('input.eventId');
    expect(await recordCount(kafka, g2.config.kafka.topics.activity)).toBe(1);
  });

  it('gathers concurrent single-event mutations into shared produce requests', async () => {
    // Gateway role only: the processor's own publishes would share the metric.
    const g3 = await startGateway(leftovers, { PRODUCER_LINGER_MS: '25', ROLES: 'gateway' });
    const n = 60;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        fetch(`${g3.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token(`user-${i}`)}` },
          body: JSON.stringify({ query: RECORD, variables: { input: { type: 'CLICK' } } }),
        }).then((r) => r.json() as Promise<any>),
      ),
    );
    expect(results.every((r) => r.data?.recordActivity?.duplicate === false)).toBe(true);
    const metrics = await (await fetch(`${g3.url}/metrics`)).text();
    const requests = Number(/kafka_publish_batch_records_count (\d+)/.exec(metrics)![1]);
    const records = Number(/kafka_publish_batch_records_sum (\d+)/.exec(metrics)![1]);
    expect(records).toBe(n);
    // Without gathering there would be one request per record.
    expect(requests).toBeLessThanOrEqual(n / 2);
    expect(await recordCount(kafka, g3.config.kafka.topics.activity)).toBe(n);
  });

  it('validates a whole batch before publishing any of it, listing every problem with its index', async () => {
    const g4 = await startGateway(leftovers);
    const res = await fetch(`${g4.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token('dave')}` },
      body: JSON.stringify({
        query: RECORD_MANY,
        variables: { inputs: [{ type: 'PAGE_VIEW', pageUrl: '/ok' }, { type: 'PURCHASE', properties: { price: -3 } }, { type: 'SEARCH' }] },
      }),
    });
    const body = (await res.json()) as any;
    expect(body.data).toBeNull();
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0].extensions.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'inputs.1.contentId',
      'inputs.1.properties.price',
      'inputs.2.properties.query',
    ]);
    expect(await recordCount(kafka, g4.config.kafka.topics.activity)).toBe(0);
  });
});
