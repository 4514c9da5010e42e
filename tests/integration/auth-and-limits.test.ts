import { generateKeyPairSync } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import jwt from 'jsonwebtoken';
import { signToken } from '../../src/auth/jwt';
import { Leftovers, startGateway, TEST_SECRET, token, waitFor, type TestGateway } from '../support/harness';
import { recordCount, testKafka } from '../support/kafka';
import { collect, wsClient } from '../support/subscriptions';

const leftovers = new Leftovers();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway(leftovers, { RECORD_RATE_PER_SECOND: '1', RECORD_BURST: '3', MAX_QUERY_DEPTH: '4', MAX_QUERY_COST: '200', MAX_QUERY_ALIASES: '5' });
});
afterAll(() => leftovers.dispose());

const RECORD = `mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId } }`;

async function call(url: string, query: string, variables: Record<string, unknown>, authorization?: string) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions: any; path?: string[] }> } };
}

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const now = () => Math.floor(Date.now() / 1000);

describe('authentication (CONTRACT.md section 2 and 3)', () => {
  it.each([
    ['missing', undefined],
    ['malformed', 'Bearer abc.def'],
    ['expired', `Bearer ${jwt.sign({ sub: 'u', exp: now() - 60 }, TEST_SECRET, { algorithm: 'HS256' })}`],
    ['not yet valid', `Bearer ${jwt.sign({ sub: 'u', nbf: now() + 300, exp: now() + 600 }, TEST_SECRET, { algorithm: 'HS256' })}`],
    ['wrong secret', `Bearer ${jwt.sign({ sub: 'u' }, 'some-other-secret-value-0123456789abcdef', { algorithm: 'HS256', expiresIn: 60 })}`],
    ['alg none', `Bearer ${jwt.sign({ sub: 'u', roles: ['admin'] }, '', { algorithm: 'none', expiresIn: 60 })}`],
    ['the other algorithm', `Bearer ${jwt.sign({ sub: 'u' }, privateKey, { algorithm: 'RS256', expiresIn: 60 })}`],
  ])('refuses a %s token with UNAUTHENTICATED and records nothing', async (_what, header) => {
    const kafka = testKafka();
    const before = await recordCount(kafka, gw.config.kafka.topics.activity);
    const r = await call(gw.url, RECORD, { input: { type: 'CLICK' } }, header);
    expect(await recordCount(kafka, gw.config.kafka.topics.activity)).toBe(before);
    expect(r.body.data).toBeNull();
    expect(r.body.errors![0]!.extensions.code).toBe('UNAUTHENTICATED');
    expect(r.body.errors![0]!.path).toEqual(['recordActivity']);
  });

  it('lets a user record only for itself (FORBIDDEN otherwise), an analyst too, and a service for anyone', async () => {
    const user = await call(gw.url, RECORD, { input: { type: 'CLICK', userId: 'someone-else' } }, `Bearer ${token('eve')}`);
    expect(user.body.errors![0]!.extensions.code).toBe('FORBIDDEN');
    const analyst = await call(gw.url, RECORD, { input: { type: 'CLICK', userId: 'someone-else' } }, `Bearer ${token('ann', ['analyst'])}`);
    expect(analyst.body.errors![0]!.extensions.code).toBe('FORBIDDEN');
    const self = await call(gw.url, RECORD, { input: { type: 'CLICK', userId: 'eve' } }, `Bearer ${token('eve')}`);
    expect(self.body.errors).toBeUndefined();
    const service = await call(gw.url, RECORD, { input: { type: 'CLICK', userId: 'someone-else' } }, `Bearer ${token('svc', ['service'])}`);
    expect(service.body.errors).toBeUndefined();
  });

  it('accepts RS256 tokens when the gateway is pinned to RS256, and refuses HS256 ones', async () => {
    const pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const rs = await startGateway(leftovers, { JWT_SECRET: undefined, JWT_PUBLIC_KEY: pair.publicKey });
    const good = signToken({ sub: 'r1', ttlSeconds: 60 }, pair.privateKey, 'RS256');
    expect((await call(rs.url, RECORD, { input: { type: 'CLICK' } }, `Bearer ${good}`)).body.errors).toBeUndefined();
    const hs = signToken({ sub: 'r1', ttlSeconds: 60 }, TEST_SECRET, 'HS256');
    expect((await call(rs.url, RECORD, { input: { type: 'CLICK' } }, `Bearer ${hs}`)).body.errors![0]!.extensions.code).toBe('UNAUTHENTICATED');
  });
});

/** A chain of `user { recentEvents { … } }`, `levels` deep, each list at its default page (10) or at `first`. */
function recentChain(levels: number, first?: number): string {
  const page = first === undefined ? '' : `(first: ${first})`;
  let inner = 'eventId';
  for (let i = 0; i < levels; i++) inner = `user { recentEvents${page} { ${inner} } }`;
  return inner;
}

describe('query limits under the default configuration (one rule set for HTTP and WebSocket)', () => {
  let plain: TestGateway;
  beforeAll(async () => {
    plain = await startGateway(leftovers);
  });
  const analyst = () => `Bearer ${token('ann', ['analyst'])}`;

  it.each([
    ['their default page sizes', `{ processedEvents { edges { node { ${recentChain(3)} } } } }`],
    ['first written out', `{ processedEvents(first: 50) { edges { node { ${recentChain(3, 10)} } } } }`],
  ])('refuses nested lists at %s over HTTP with QUERY_TOO_COMPLEX', async (_what, query) => {
    const r = await call(plain.url, query, {}, analyst());
    expect(r.status).toBe(400);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors![0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');
    // 1 + 50 × (edges, node, and three levels of a user and 10 of its events): 61,201.
    expect(r.body.errors![0]!.message).toBe('Query cost 61201 exceeds the limit of 20000.');
  });

  it.each([
    ['their default page sizes', `subscription { eventProcessed { ${recentChain(5)} } }`],
    ['first written out', `subscription { eventProcessed { ${recentChain(5, 10)} } }`],
  ])('refuses a subscription of nested lists at %s over WebSocket with QUERY_TOO_COMPLEX', async (_what, query) => {
    const sub = collect(wsClient(leftovers, plain.url, token('ann', ['analyst'])), query);
    await waitFor(() => (sub.error ? true : undefined), 10_000, 'the subscription to be refused');
    const errors = sub.error as Array<{ message: string; extensions: { code: string } }>;
    expect(errors[0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(errors[0]!.message).toMatch(/^Query cost \d+ exceeds the limit of 20000\.$/);
    expect(plain.app.hubSubscribers()).toBe(0);
  });

  it('refuses 100 aliases of processedEvents with QUERY_TOO_COMPLEX, naming the alias limit', async () => {
    const aliases = Array.from({ length: 100 }, (_, i) => `p${i}: processedEvents(first: 1) { edges { cursor } }`).join(' ');
    const r = await call(plain.url, `{ ${aliases} }`, {}, analyst());
    expect(r.status).toBe(400);
    expect(r.body.errors![0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(r.body.errors![0]!.message).toBe('Aliases limit of 50 exceeded, found 100.');
  });

  it('takes the alias limit from MAX_QUERY_ALIASES', async () => {
    const six = `{ ${Array.from({ length: 6 }, (_, i) => `t${i}: serverTime`).join(' ')} }`;
    const tight = await call(gw.url, six, {}, analyst());
    expect(tight.body.errors![0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(tight.body.errors![0]!.message).toBe('Aliases limit of 5 exceeded, found 6.');
    const loose = await call(plain.url, six, {}, analyst());
    expect(loose.body.errors).toBeUndefined();
  });

  it('refuses a document past the token limit with QUERY_TOO_COMPLEX, over HTTP and WebSocket', async () => {
    const fields = Array.from({ length: 5_000 }, () => '__typename').join(' ');
    const r = await call(plain.url, `{ ${fields} }`, {}, analyst());
    expect(r.status).toBe(400);
    expect(r.body.errors![0]!.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX' });
    expect(r.body.errors![0]!.message).toBe('Query token limit of 5000 exceeded.');
    const sub = collect(wsClient(leftovers, plain.url, token('ann', ['analyst'])), `subscription { eventProcessed { ${fields} } }`);
    await waitFor(() => (sub.error ? true : undefined), 10_000, 'the subscription to be refused');
    expect((sub.error as Array<{ extensions: { code: string } }>)[0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('accepts a normal query, and full introspection, also under tight limits', async () => {
    const normal = await call(plain.url, `{ processedEvents(first: 50) { edges { node { eventId user { userId } } } } }`, {}, analyst());
    expect(normal.status).toBe(200);
    expect(normal.body.errors).toBeUndefined();
    expect(Array.isArray(normal.body.data.processedEvents.edges)).toBe(true);
    for (const g of [plain, gw]) {
      const intro = await call(g.url, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }), {}, analyst());
      expect(intro.body.errors).toBeUndefined();
      expect(intro.body.data.__schema.queryType.name).toBe('Query');
    }
  });
});

describe('limits', () => {
  it('rate-limits recording per user with RATE_LIMITED and retryAfterSeconds, publishing nothing over budget', async () => {
    const bearer = `Bearer ${token('busy-user')}`;
    const kafka = testKafka();
    const before = await recordCount(kafka, gw.config.kafka.topics.activity);
    const batch = `mutation M($inputs: [RecordActivityInput!]!) { recordActivities(inputs: $inputs) { eventId } }`;
    const ok = await call(gw.url, batch, { inputs: [{ type: 'CLICK' }, { type: 'CLICK' }, { type: 'CLICK' }] }, bearer);
    expect(ok.body.errors).toBeUndefined();
    const limited = await call(gw.url, RECORD, { input: { type: 'CLICK' } }, bearer);
    expect(limited.body.errors![0]!.extensions.code).toBe('RATE_LIMITED');
    expect(limited.body.errors![0]!.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await recordCount(kafka, gw.config.kafka.topics.activity)).toBe(before + 3);
    // Other users have budgets of their own.
    expect((await call(gw.url, RECORD, { input: { type: 'CLICK' } }, `Bearer ${token('calm-user')}`)).body.errors).toBeUndefined();
  });

  it('refuses batches outside 1..500 with BAD_USER_INPUT', async () => {
    const g = await startGateway(leftovers);
    const batch = `mutation M($inputs: [RecordActivityInput!]!) { recordActivities(inputs: $inputs) { eventId } }`;
    const empty = await call(g.url, batch, { inputs: [] }, `Bearer ${token('svc', ['service'])}`);
    expect(empty.body.errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
    const tooMany = await call(g.url, batch, { inputs: Array.from({ length: 501 }, () => ({ type: 'CLICK' })) }, `Bearer ${token('svc', ['service'])}`);
    expect(tooMany.body.errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect(tooMany.body.errors![0]!.extensions.errors[0].path).toBe('inputs');
  });

  it('refuses a query over the cost limit with QUERY_TOO_COMPLEX before running it', async () => {
    // Every field costs 1 and the fields under a page count once per item: 1 + 99 × 2 + 1 = 200.
    const within = `{ processedEvents(first: 99) { edges { cursor } } serverTime }`;
    expect((await call(gw.url, within, {}, `Bearer ${token('u')}`)).body.errors).toBeUndefined();
    const costly = await call(gw.url, `{ processedEvents(first: 99) { edges { cursor } } a: serverTime b: serverTime }`, {}, `Bearer ${token('u')}`);
    expect(costly.status).toBe(400);
    expect(costly.body.errors![0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(costly.body.errors![0]!.message).toBe('Query cost 201 exceeds the limit of 200.');
    expect(costly.body.errors![0]!.extensions.http).toBeUndefined();
    // The page size may come from a variable.
    const paged = `query P($n: Int) { processedEvents(first: $n) { edges { cursor } } }`;
    expect((await call(gw.url, paged, { n: 99 }, `Bearer ${token('u')}`)).body.errors).toBeUndefined();
    expect((await call(gw.url, paged, { n: 100 }, `Bearer ${token('u')}`)).body.errors![0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('masks nothing it should show and shows no stack trace outside development', async () => {
    const prod = await startGateway(leftovers, { NODE_ENV: 'production' });
    const r = await call(prod.url, RECORD, { input: { type: 'SEARCH' } }, `Bearer ${token('p')}`);
    const e = r.body.errors![0]!;
    expect(e.extensions.code).toBe('BAD_USER_INPUT');
    expect(e.extensions.stacktrace).toBeUndefined();
    expect(e.extensions.errors).toEqual([{ path: 'input.properties.query', message: 'is required for this event type' }]);
  });
});
