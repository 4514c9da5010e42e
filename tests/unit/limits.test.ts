import { buildSchema, getIntrospectionQuery, GraphQLError, parse } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { clientAddress } from '../../src/domain/client-address';
import { Lru } from '../../src/domain/lru';
import { RateLimiter } from '../../src/domain/rate-limit';
import { DEFAULT_PAGE_ASSUMED, pagedCostEstimator, parseLimited, QueryLimiter, tokenLimitError } from '../../src/server/query-limits';

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate, and says how long to wait', () => {
    let now = 0;
    const rl = new RateLimiter(2, 4, () => now);
    expect(rl.take('u', 4)).toBe(0);
    expect(rl.take('u')).toBe(1);
    now += 500; // one token back
    expect(rl.take('u')).toBe(0);
    expect(rl.take('u', 3)).toBe(2); // 3 tokens at 2/s from empty
    expect(rl.take('other', 4)).toBe(0); // buckets are per key
  });

  it('never admits a request larger than the burst, and 0 means unlimited', () => {
    const rl = new RateLimiter(10, 5, () => 0);
    expect(rl.take('u', 6)).toBeGreaterThan(0);
    expect(new RateLimiter(0, 1).take('u', 1_000)).toBe(0);
  });

  it('bounds the keys it tracks', () => {
    let now = 0;
    const rl = new RateLimiter(1, 1, () => now, 3);
    for (const k of ['a', 'b', 'c', 'd', 'e']) rl.take(k);
    now += 10;
    expect(rl.take('f')).toBe(0);
    expect((rl as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(3);
  });
});

describe('Lru', () => {
  it('forgets the least recently used entry past its capacity', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.size).toBe(2);
  });
});

describe('clientAddress', () => {
  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    expect(clientAddress('::ffff:10.0.0.2', '1.2.3.4', 0)).toBe('10.0.0.2');
  });
  it('takes the address the outermost trusted proxy saw', () => {
    expect(clientAddress('10.0.0.2', 'spoofed, 198.51.100.7', 1)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.2', 'spoofed, 198.51.100.7, 10.0.0.9', 2)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.2', '198.51.100.7', 3)).toBe('198.51.100.7');
  });
});

describe('query limits', () => {
  const schema = buildSchema(`
    type Query { items(first: Int = 10): [Item!]! page(limit: Int): [Item!]! one: Item serverTime: String }
    type Item { id: ID! name: String children(first: Int = 5): [Item!]! }
  `);
  const limits = { maxDepth: 5, maxCost: 1_000, maxAliases: 3, maxDirectives: 2, maxTokens: 60 };
  const cost = (q: string, variables: Record<string, unknown> = {}) =>
    getComplexity({ schema, query: parse(q), variables, estimators: [pagedCostEstimator] });
  const refusals = (q: string, variables: Record<string, unknown> = {}) =>
    new QueryLimiter(schema, limits).check(parse(q), undefined, variables).map((e) => [e.extensions.code, e.message]);

  it('multiplies the cost of a list field\'s children by its page size, the schema default when left out', () => {
    expect(cost('{ items(first: 3) { id name } }')).toBe(1 + 3 * 2);
    expect(cost('{ items { id children { id } } }')).toBe(1 + 10 * (1 + 1 + 5 * 1));
    expect(cost('{ one { id } }')).toBe(2);
  });

  it('reads page sizes from variables and assumes a default page when one has no value', () => {
    expect(cost('query Q($n: Int) { items(first: $n) { ...F } } fragment F on Item { id name }', { n: 7 })).toBe(1 + 7 * 2);
    expect(cost('{ page { id } }')).toBe(1 + DEFAULT_PAGE_ASSUMED);
    expect(cost('{ page(limit: 2) { id } }')).toBe(1 + 2);
  });

  it('does not count introspection, for cost or depth', () => {
    expect(cost('{ __schema { types { fields { type { ofType { ofType { name } } } } } } }')).toBe(0);
    expect(refusals(getIntrospectionQuery())).toEqual([]);
  });

  it('refuses depth, cost, aliases and directives past their limits with QUERY_TOO_COMPLEX, naming the limit', () => {
    expect(refusals('{ one { children { children { children { children { id } } } } } }')).toEqual([
      ['QUERY_TOO_COMPLEX', 'Query depth limit of 5 exceeded, found 6.'],
    ]);
    expect(refusals('{ items(first: 100) { children(first: 100) { id } } }')).toEqual([
      ['QUERY_TOO_COMPLEX', `Query cost ${1 + 100 * (1 + 100)} exceeds the limit of 1000.`],
    ]);
    expect(refusals('{ a: serverTime b: serverTime c: serverTime d: serverTime }')).toEqual([
      ['QUERY_TOO_COMPLEX', 'Aliases limit of 3 exceeded, found 4.'],
    ]);
    expect(refusals('{ serverTime @skip(if: false) @include(if: true) one @include(if: true) { id } }')).toEqual([
      ['QUERY_TOO_COMPLEX', 'Directives limit of 2 exceeded, found 3.'],
    ]);
    expect(refusals('{ items(first: 3) { id name } a: serverTime }')).toEqual([]);
  });

  it('measures a document again when its page size comes from variables, and once otherwise', () => {
    const limiter = new QueryLimiter(schema, limits);
    const paged = parse('query Q($n: Int) { items(first: $n) { id } }');
    expect(limiter.check(paged, 'Q', { n: 10 })).toEqual([]);
    expect(limiter.check(paged, 'Q', { n: 5_000 }).map((e) => e.extensions.code)).toEqual(['QUERY_TOO_COMPLEX']);
    const fixed = parse('query R($s: String!) { items(first: 500) { id name } serverTime }');
    // Variables that do not coerce leave the cost unmeasured: that verdict is not kept.
    expect(limiter.check(fixed, 'R', {})).toEqual([]);
    expect(limiter.check(fixed, 'R', { s: 'x' }).map((e) => e.extensions.code)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('stops parsing past the token limit with QUERY_TOO_COMPLEX, and recognizes graphql-js\'s wording of it', () => {
    const long = `{ ${Array.from({ length: 70 }, (_, i) => `f${i}`).join(' ')} }`;
    expect(() => parseLimited(long, limits)).toThrow('Query token limit of 60 exceeded.');
    let thrown: unknown;
    try {
      parse(long, { maxTokens: 10 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GraphQLError);
    expect(tokenLimitError(thrown as GraphQLError, limits)?.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(tokenLimitError(new GraphQLError('Syntax Error: Unexpected Name "x".'), limits)).toBeUndefined();
    expect(parseLimited('{ serverTime }', limits).kind).toBe('Document');
  });
});
