import type { Kafka } from 'kafkajs';
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

async function post(body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${gw.url}/v1/events`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe('POST /v1/events', () => {
  it('accepts one event with 202 and a receipt, and publishes it like the mutation does', async () => {
    const r = await post({ type: 'SEARCH', properties: { query: 'laptop deals' }, sessionId: 's9' }, {
      'content-type': 'application/json',
      authorization: `Bearer ${token('rest-user')}`,
    });
    expect(r.status).toBe(202);
    expect(r.body.receipts).toHaveLength(1);
    const [rec] = await readTopic(kafka, gw.config.kafka.topics.activity, 1);
    expect(rec!.key).toBe('rest-user');
    expect(rec!.headers['event-type']).toBe('SEARCH');
    expect(rec!.json).toMatchObject({ eventId: r.body.receipts[0].eventId, properties: { query: 'laptop deals' }, sessionId: 's9' });
    expect([rec!.partition, rec!.offset]).toEqual([r.body.receipts[0].partition, r.body.receipts[0].offset]);
  });

  it('accepts a batch, and a text/plain beacon body carrying its token', async () => {
    const before = await recordCount(kafka, gw.config.kafka.topics.activity);
    const batch = await post({ batch: [{ type: 'PAGE_VIEW', pageUrl: '/a' }, { type: 'PAGE_VIEW', pageUrl: '/b' }] }, {
      'content-type': 'application/json',
      authorization: `Bearer ${token('rest-user')}`,
    });
    expect(batch.status).toBe(202);
    expect(batch.body.receipts).toHaveLength(2);
    expect(Number(batch.body.receipts[1].offset)).toBe(Number(batch.body.receipts[0].offset) + 1);

    const beacon = await post(JSON.stringify({ token: token('beacon-user'), type: 'PAGE_VIEW', pageUrl: '/leaving' }), {
      'content-type': 'text/plain;charset=UTF-8',
    });
    expect(beacon.status).toBe(202);
    expect(await recordCount(kafka, gw.config.kafka.topics.activity)).toBe(before + 3);
  });

  it('answers with the contract codes as HTTP statuses and records nothing on error', async () => {
    const before = await recordCount(kafka, gw.config.kafka.topics.activity);
    const anonymous = await post({ type: 'CLICK' }, { 'content-type': 'application/json' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');

    const forbidden = await post({ type: 'CLICK', userId: 'other' }, { 'content-type': 'application/json', authorization: `Bearer ${token('u')}` });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('FORBIDDEN');

    const invalid = await post(
      { batch: [{ type: 'CLICK' }, { type: 'TELEPORT', color: 'red' }, { type: 'PURCHASE', contentId: 'p', properties: { price: -1 } }] },
      { 'content-type': 'application/json', authorization: `Bearer ${token('u')}` },
    );
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('BAD_USER_INPUT');
    expect(invalid.body.error.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'batch.1.color',
      'batch.1.type',
      'batch.2.properties.price',
    ]);

    const notJson = await post('{nope', { 'content-type': 'application/json', authorization: `Bearer ${token('u')}` });
    expect(notJson.status).toBe(400);
    const array = await post([{ type: 'CLICK' }], { 'content-type': 'application/json', authorization: `Bearer ${token('u')}` });
    expect(array.status).toBe(400);
    const xml = await post('<event/>', { 'content-type': 'application/xml', authorization: `Bearer ${token('u')}` });
    expect(xml.status).toBe(415);

    expect(await recordCount(kafka, gw.config.kafka.topics.activity)).toBe(before);
  });

  it('sends Retry-After with RATE_LIMITED', async () => {
    const g = await startGateway(leftovers, { RECORD_RATE_PER_SECOND: '1', RECORD_BURST: '1' });
    const send = () =>
      fetch(`${g.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token('r')}` },
        body: JSON.stringify({ type: 'CLICK' }),
      });
    expect((await send()).status).toBe(202);
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as any).error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
  });
});
