import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { Leftovers, RECORD_MANY, graphql, sql, startGateway, token, waitFor, type TestGateway } from '../support/harness';
import { readTopic, testKafka } from '../support/kafka';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());
const admin = token('root', ['admin']);
const analyst = token('ana', ['analyst']);

let kafka: Kafka;
beforeAll(() => {
  kafka = testKafka();
});


const value = (over: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  eventId: randomUUID(),
  userId: 'direct-user',
  type: 'PAGE_VIEW',
  occurredAt: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
  sessionId: 'sess-1',
  contentId: null,
  pageUrl: '/',
  referrer: null,
  properties: {},
  device: null,
  location: null,
  ipAddress: null,
  userAgent: null,
  ...over,
});

async function produce(gw: TestGateway, records: Array<{ key: string | null; value: string | Buffer }>): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: gw.config.kafka.topics.activity, acks: -1, messages: records });
  } finally {
    await producer.disconnect();
  }
}

const PROFILE = `query P($id: ID!) { userProfile(userId: $id) { userId totalEvents sessionCount purchaseCount totalSpent segment
  eventCounts { type count } recentEvents(first: 3) { eventId type } } }`;

describe('the activity processor', () => {
  it('makes recorded events queryable in processedEvents and in the profile', async () => {
    const gw = await startGateway(leftovers);
    const r = await graphql(gw.url, RECORD_MANY, {
      inputs: [
        { type: 'PAGE_VIEW', pageUrl: '/', sessionId: 's1' },
        { type: 'SEARCH', properties: { query: 'laptop' }, sessionId: 's1' },
        { type: 'PURCHASE', contentId: 'laptop', properties: { price: 999.99 }, sessionId: 's1' },
      ],
    }, token('pat'));
    const ids = r.data.recordActivities.map((x: { eventId: string }) => x.eventId);
    const page = await waitFor(async () => {
      const q = await graphql(gw.url, '{ processedEvents(first: 10) { totalCount edges { cursor node { eventId type userId processedAt partition offset } } } }', {}, token('pat'));
      return q.data.processedEvents.edges.length === 3 ? q.data.processedEvents : undefined;
    }, 20_000, 'three processed events');
    expect(page.edges.map((e: any) => e.node.eventId)).toEqual(ids);
    expect(page.edges.map((e: any) => [e.node.partition, e.node.offset])).toEqual(
      r.data.recordActivities.map((x: any) => [x.partition, x.offset]),
    );
    const profile = await graphql(gw.url, PROFILE, { id: 'pat' }, token('pat'));
    expect(profile.data.userProfile).toMatchObject({
      userId: 'pat',
      totalEvents: 3,
      sessionCount: 1,
      purchaseCount: 1,
      totalSpent: 999.99,
      segment: 'BUYER',
    });
    expect(profile.data.userProfile.recentEvents.map((e: any) => e.eventId)).toEqual([...ids].reverse());
    const me = await graphql(gw.url, '{ me { userId totalEvents } }', {}, token('pat'));
    expect(me.data.me).toEqual({ userId: 'pat', totalEvents: 3 });

    // The processed topic carries each stored event with its cursor.
    const processed = await readTopic(kafka, gw.config.kafka.topics.processed, 3);
    expect(processed.map((p) => p.json.eventId).sort()).toEqual([...ids].sort());
    expect(processed.every((p) => p.key === 'pat' && typeof p.json.cursor === 'string' && p.json.processedAt)).toBe(true);
  });

  it('publishes processed events on a producer of its own, apart from recording', async () => {
    const gw = await startGateway(leftovers);
    const counters = async () => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      const read = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
      return { recorded: read('kafka_publish_batch_records_sum'), processorPublishes: read('processor_publish_seconds_count') };
    };
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'PAGE_VIEW', pageUrl: '/own' }, { type: 'CLICK', pageUrl: '/own' }] }, token('own'));
    const after = await waitFor(async () => {
      const c = await counters();
      return c.processorPublishes >= 1 ? c : undefined;
    }, 20_000, 'the processed events published');
    // Recording's producer sent the two recorded events only; the two processed ones went on the processor's.
    expect(after.recorded).toBe(2);
    expect((await readTopic(kafka, gw.config.kafka.topics.processed, 2)).map((p) => p.json.pageUrl)).toEqual(['/own', '/own']);
  });

  it('stores an event delivered twice once, and counts it once in the profile', async () => {
    const gw = await startGateway(leftovers);
    const twice = JSON.stringify(value({ userId: 'dup-user' }));
    const other = JSON.stringify(value({ userId: 'dup-user', type: 'CLICK' }));
    await produce(gw, [{ key: 'dup-user', value: twice }, { key: 'dup-user', value: other }]);
    await produce(gw, [{ key: 'dup-user', value: twice }]);
    const marker = JSON.stringify(value({ userId: 'dup-user', type: 'LOGOUT' }));
    await produce(gw, [{ key: 'dup-user', value: marker }]);
    await waitFor(async () => ((await sql<{ n: number }>(gw, 'SELECT count(*)::int n FROM activity_events'))[0]!.n === 3 ? true : undefined));
    // Wait for the last record to be handled, then check nothing was counted twice.
    await waitFor(async () => {
      const p = await graphql(gw.url, PROFILE, { id: 'dup-user' }, admin);
      return p.data.userProfile?.eventCounts.some((c: any) => c.type === 'LOGOUT') ? p : undefined;
    });
    const rows = await sql<{ event_id: string; n: number }>(gw, 'SELECT event_id, count(*)::int n FROM activity_events GROUP BY event_id');
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const p = await graphql(gw.url, PROFILE, { id: 'dup-user' }, admin);
    expect(p.data.userProfile.totalEvents).toBe(3);
    expect(p.data.userProfile.sessionCount).toBe(1);
  });

  it('sends garbage, arrays, schema violations and NUL characters to the DLQ with their headers, lists them, and processes what is around them', async () => {
    const gw = await startGateway(leftovers);
    const before = value({ userId: 'dlq-user', pageUrl: '/before' });
    const after = value({ userId: 'dlq-user', pageUrl: '/after' });
    const garbage = Buffer.from([0xff, 0xfe, 0x7b, 0x80]);
    const badSchema = JSON.stringify(value({ userId: 'dlq-user', type: 'PURCHASE', properties: { price: -1 } }));
    // PostgreSQL text and jsonb cannot hold U+0000: valid JSON with one must not stop the processor.
    const nulInJson = JSON.stringify(value({ userId: 'dlq-user', pageUrl: '/a\u0000b' }));
    const nulByte = Buffer.from([0x7b, 0x00, 0x7d]);
    // JSON.parse makes a lone surrogate of an escape like \ud800, which PostgreSQL cannot store either.
    const loneSurrogate = JSON.stringify(value({ userId: 'dlq-user', properties: { q: 'a\ud800b' } }));
    expect(loneSurrogate).toContain('\\ud800');
    await produce(gw, [
      { key: 'dlq-user', value: JSON.stringify(before) },
      { key: 'dlq-user', value: garbage },
      { key: 'dlq-user', value: '[1,2,3]' },
      { key: 'dlq-user', value: badSchema },
      { key: 'dlq-user', value: nulInJson },
      { key: 'dlq-user', value: nulByte },
      { key: 'dlq-user', value: loneSurrogate },
      { key: 'dlq-user', value: JSON.stringify(after) },
    ]);
    const dead = await readTopic(kafka, gw.config.kafka.topics.dlq, 6);
    expect(dead).toHaveLength(6);
    expect(dead[0]!.value.equals(garbage)).toBe(true);
    expect(dead[1]!.value.toString()).toBe('[1,2,3]');
    expect(dead[2]!.value.toString()).toBe(badSchema);
    expect(dead[3]!.value.toString()).toBe(nulInJson);
    expect(dead[4]!.value.equals(nulByte)).toBe(true);
    expect(dead[5]!.value.toString()).toBe(loneSurrogate);
    for (const [i, d] of dead.entries()) {
      expect(d.key).toBe('dlq-user');
      expect(d.headers['dlq-source-topic']).toBe(gw.config.kafka.topics.activity);
      expect(d.headers['dlq-source-offset']).toBe(String(i + 1));
      expect(d.headers['dlq-source-partition']).toMatch(/^\d+$/);
    }
    expect(dead[0]!.headers['dlq-reason']).toMatch(/^not JSON/);
    expect(dead[1]!.headers['dlq-reason']).toMatch(/not a JSON object/);
    expect(dead[2]!.headers['dlq-reason']).toMatch(/contentId|price/);
    expect(dead[3]!.headers['dlq-reason']).toMatch(/pageUrl must not contain U\+0000/);
    expect(dead[4]!.headers['dlq-reason']).toMatch(/^not JSON/);
    expect(dead[5]!.headers['dlq-reason']).toMatch(/properties\.q must not contain a lone surrogate/);

    const failed = await graphql(gw.url, '{ failedEvents(first: 10) { totalCount edges { node { topic offset key reason rawValue } } } }', {}, admin);
    expect(failed.data.failedEvents.totalCount).toBe(6);
    expect(failed.data.failedEvents.edges.map((e: any) => e.node.offset)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(failed.data.failedEvents.edges[0].node.rawValue).toBe('\uFFFD\uFFFD{\uFFFD');
    expect(failed.data.failedEvents.edges[1].node.rawValue).toBe('[1,2,3]');
    expect(failed.data.failedEvents.edges[4].node.rawValue).toBe('{\uFFFD}');

    const events = await sql<{ page_url: string }>(gw, 'SELECT page_url FROM activity_events ORDER BY seq');
    expect(events.map((e) => e.page_url)).toEqual(['/before', '/after']);

    const notAdmin = await graphql(gw.url, '{ failedEvents { totalCount } }', {}, analyst);
    expect(notAdmin.errors![0]!.extensions.code).toBe('FORBIDDEN');
  });

  it('leaves exactly one row per event when stopped between the database commit and the offset commit, then restarted', async () => {
    let crashes = 0;
    const gw = await startGateway(leftovers, {}, {
      afterStore: async () => {
        if (crashes++ === 0) throw new Error('simulated crash after the store committed');
      },
    });
    const r = await graphql(gw.url, RECORD_MANY, {
      inputs: Array.from({ length: 20 }, (_, i) => ({ type: 'PAGE_VIEW', pageUrl: `/p${i}`, sessionId: `s${i % 2}` })),
    }, token('crash-user'));
    expect(r.errors).toBeUndefined();
    // The crashed batch is delivered again and skipped as already stored.
    await waitFor(() => (crashes >= 2 ? true : undefined), 30_000, 'the batch to be redelivered');
    await gw.app.stop();

    // A restarted processor in the same group re-reads nothing it committed and stores nothing twice.
    const again = await startGateway(leftovers, {}, { share: gw });
    await graphql(again.url, RECORD_MANY, { inputs: [{ type: 'LOGOUT' }] }, token('crash-user'));
    await waitFor(async () => ((await sql<{ n: number }>(gw, 'SELECT count(*)::int n FROM activity_events'))[0]!.n === 21 ? true : undefined));
    const rows = await sql<{ n: number }>(gw, 'SELECT count(*)::int n FROM activity_events GROUP BY event_id HAVING count(*) > 1');
    expect(rows).toEqual([]);
    const profile = await graphql(again.url, PROFILE, { id: 'crash-user' }, admin);
    expect(profile.data.userProfile.totalEvents).toBe(21);
    expect(profile.data.userProfile.sessionCount).toBe(2);
  });

  it('answers processedEvents(first: 200) with users in a constant number of SQL statements', async () => {
    const processor = await startGateway(leftovers, { ROLES: 'gateway,processor' });
    const inputs = Array.from({ length: 250 }, (_, i) => ({ userId: `n1-${i % 40}`, type: 'CLICK' }));
    await graphql(processor.url, RECORD_MANY, { inputs: inputs.slice(0, 125) }, token('svc', ['service']));
    await graphql(processor.url, RECORD_MANY, { inputs: inputs.slice(125) }, token('svc', ['service']));
    await waitFor(async () => ((await sql<{ n: number }>(processor, 'SELECT count(*)::int n FROM activity_events'))[0]!.n === 250 ? true : undefined));

    const reader = await startGateway(leftovers, { ROLES: 'gateway' }, { share: processor });
    const before = reader.app.store.statements;
    const q = await graphql(reader.url, '{ processedEvents(first: 200) { edges { node { user { totalEvents } } } } }', {}, analyst);
    const statements = reader.app.store.statements - before;
    expect(q.data.processedEvents.edges).toHaveLength(200);
    expect(q.data.processedEvents.edges.every((e: any) => e.node.user.totalEvents > 0)).toBe(true);
    expect(statements).toBe(2); // the page, and one batched profile lookup
  });

  it('pages without overlap or gaps while new events keep arriving', async () => {
    const gw = await startGateway(leftovers);
    const svc = token('svc', ['service']);
    await graphql(gw.url, RECORD_MANY, { inputs: Array.from({ length: 40 }, (_, i) => ({ userId: `pg-${i % 5}`, type: 'CLICK', pageUrl: `/a${i}` })) }, svc);
    await waitFor(async () => ((await sql<{ n: number }>(gw, 'SELECT count(*)::int n FROM activity_events'))[0]!.n === 40 ? true : undefined));

    const seen: string[] = [];
    let after: string | null = null;
    let writes = 0;
    for (;;) {
      // Keep writing while paging.
      await graphql(gw.url, RECORD_MANY, { inputs: Array.from({ length: 5 }, (_, i) => ({ userId: `pg-${i}`, type: 'CLICK', pageUrl: `/b${writes}-${i}` })) }, svc);
      writes++;
      const page: any = await graphql(gw.url, 'query Q($after: String) { processedEvents(first: 7, after: $after) { pageInfo { hasNextPage endCursor } edges { node { eventId } } } }', { after }, analyst);
      seen.push(...page.data.processedEvents.edges.map((e: any) => e.node.eventId));
      if (!page.data.processedEvents.pageInfo.hasNextPage || writes > 40) break;
      after = page.data.processedEvents.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    const stored = await sql<{ event_id: string }>(gw, 'SELECT event_id FROM activity_events ORDER BY seq');
    // What was paged is exactly the stored prefix, in order: nothing skipped, nothing twice.
    expect(seen).toEqual(stored.slice(0, seen.length).map((r) => r.event_id));
    expect(seen.length).toBeGreaterThanOrEqual(40);
  });
});

describe('read authorization', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(leftovers);
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'CLICK' }] }, token('owner'));
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'CLICK' }] }, token('stranger'));
    await waitFor(async () => ((await sql<{ n: number }>(gw, 'SELECT count(*)::int n FROM activity_events'))[0]!.n === 2 ? true : undefined));
  });

  it('narrows a user to its own events and shows it no IP address', async () => {
    const q = await graphql(gw.url, '{ processedEvents { totalCount edges { node { userId ipAddress } } } }', {}, token('owner'));
    expect(q.data.processedEvents.totalCount).toBe(1);
    expect(q.data.processedEvents.edges[0].node).toEqual({ userId: 'owner', ipAddress: null });
  });

  it('shows an analyst everything, with IP addresses', async () => {
    const q = await graphql(gw.url, '{ processedEvents { totalCount edges { node { ipAddress } } } }', {}, analyst);
    expect(q.data.processedEvents.totalCount).toBe(2);
    expect(q.data.processedEvents.edges[0].node.ipAddress).toBe('127.0.0.1');
  });

  it('refuses a user asking for someone else, and a service reading anything, with FORBIDDEN', async () => {
    const strangerEvent = (await sql<{ event_id: string }>(gw, "SELECT event_id FROM activity_events WHERE user_id = 'stranger'"))[0]!.event_id;
    for (const [query, vars] of [
      ['query($id: ID!) { userProfile(userId: $id) { userId } }', { id: 'stranger' }],
      ['query($id: ID!) { event(eventId: $id) { eventId } }', { id: strangerEvent }],
      ['{ processedEvents(filter: { userId: "stranger" }) { totalCount } }', {}],
    ] as const) {
      const r = await graphql(gw.url, query, vars, token('owner'));
      expect(r.errors![0]!.extensions.code).toBe('FORBIDDEN');
    }
    const svc = await graphql(gw.url, '{ me { userId } }', {}, token('svc', ['service']));
    expect(svc.errors![0]!.extensions.code).toBe('FORBIDDEN');
    const own = await graphql(gw.url, 'query($id: ID!) { userProfile(userId: $id) { userId } }', { id: 'owner' }, token('owner'));
    expect(own.data.userProfile.userId).toBe('owner');
  });

  it('refuses out-of-range pages and foreign cursors with BAD_USER_INPUT', async () => {
    const big = await graphql(gw.url, '{ processedEvents(first: 501) { totalCount } }', {}, analyst);
    expect(big.errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
    const cursor = await graphql(gw.url, '{ processedEvents(after: "bm90LWEtY3Vyc29y") { totalCount } }', {}, analyst);
    expect(cursor.errors![0]!.extensions.errors[0].path).toBe('after');
  });
});
