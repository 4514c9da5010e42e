import { parse, type OperationDefinitionNode } from 'graphql';
import { clientAddress } from '../../src/domain/client-address';
import { Lru } from '../../src/domain/lru';
import { RateLimiter } from '../../src/domain/rate-limit';
import { DEFAULT_PAGE_ASSUMED, measure } from '../../src/server/query-complexity';

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

describe('query complexity', () => {
  const op = (q: string) => {
    const doc = parse(q);
    return { doc, op: doc.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode };
  };
  it('measures depth and multiplies the cost of paginated children', () => {
    const { doc, op: o } = op('{ a { b(first: 10) { c d { e } } } }');
    expect(measure(o, doc)).toEqual({ depth: 4, cost: 1 + 1 + 10 * (1 + 1 + 1) });
  });
  it('reads page sizes from variables, assumes a default otherwise, and expands fragments', () => {
    const { doc, op: o } = op('query Q($n: Int) { a(first: $n) { ...F } } fragment F on T { x y }');
    expect(measure(o, doc, { n: 7 }).cost).toBe(1 + 7 * 2);
    expect(measure(o, doc, {}).cost).toBe(1 + DEFAULT_PAGE_ASSUMED * 2);
  });
  it('does not count introspection', () => {
    const { doc, op: o } = op('{ __schema { types { fields { type { ofType { ofType { name } } } } } } }');
    expect(measure(o, doc)).toEqual({ depth: 1, cost: 0 });
  });
});
