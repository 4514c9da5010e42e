import { fraudPlan, nextEvent, population, rng, session, type SimEvent } from '../../src/simulator/model';

describe('the simulator model', () => {
  it('is deterministic for a seed', () => {
    const a = population(3, 50, 0.1);
    const b = population(3, 50, 0.1);
    expect(a.users.map((u) => [u.userId, u.plan.map((s) => s.type)])).toEqual(b.users.map((u) => [u.userId, u.plan.map((s) => s.type)]));
  });

  it("lands near the seed's event mix: ~60% page views, 25% clicks, 10% searches, 3% carts, 2% purchases", () => {
    const r = rng(1);
    const { users } = population(1, 500, 0);
    const counts: Record<string, number> = {};
    let n = 0;
    for (let i = 0; i < 40_000; i++) {
      const e = nextEvent(r, users[i % users.length]!);
      // Product views are clicks on a product in the seed's vocabulary.
      const kind = e.type === 'PRODUCT_VIEW' ? 'CLICK' : e.type;
      counts[kind] = (counts[kind] ?? 0) + 1;
      n++;
    }
    const share = (t: string) => (counts[t] ?? 0) / n;
    expect(share('PAGE_VIEW')).toBeGreaterThan(0.5);
    expect(share('PAGE_VIEW')).toBeLessThan(0.7);
    expect(share('CLICK')).toBeGreaterThan(0.18);
    expect(share('CLICK')).toBeLessThan(0.32);
    expect(share('SEARCH')).toBeGreaterThan(0.04);
    expect(share('SEARCH')).toBeLessThan(0.14);
    expect(share('ADD_TO_CART')).toBeGreaterThan(0.01);
    expect(share('ADD_TO_CART')).toBeLessThan(0.05);
    expect(share('PURCHASE')).toBeGreaterThan(0.01);
    expect(share('PURCHASE')).toBeLessThan(0.05);
  });

  it('has researchers search before they buy, and buyers add to the cart before purchasing the same product', () => {
    const r = rng(9);
    const beforeResearchersBuy: string[][] = [];
    for (let i = 0; i < 200; i++) {
      const res = session(r, 'researcher').map((s) => s.type);
      const buy = res.indexOf('PURCHASE');
      if (buy >= 0) beforeResearchersBuy.push(res.slice(0, buy));
      const b = session(r, 'buyer');
      const p = b.findIndex((s) => s.type === 'PURCHASE');
      const c = b.findIndex((s) => s.type === 'ADD_TO_CART');
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThan(p);
      expect(b[c]!.contentId).toBe(b[p]!.contentId);
    }
    expect(beforeResearchersBuy.length).toBeGreaterThan(0);
    for (const before of beforeResearchersBuy) expect(before).toContain('SEARCH');
  });

  it('gives every product event a contentId and every search a query, as the gateway requires', () => {
    const r = rng(5);
    const { users } = population(5, 100, 0.2);
    const events: SimEvent[] = Array.from({ length: 5_000 }, (_, i) => nextEvent(r, users[i % users.length]!));
    const ofType = (...types: string[]) => events.filter((e) => types.includes(e.type));
    for (const kinds of [['PRODUCT_VIEW', 'ADD_TO_CART', 'PURCHASE'], ['PURCHASE'], ['SEARCH']]) expect(ofType(...kinds).length).toBeGreaterThan(0);
    expect(ofType('PRODUCT_VIEW', 'ADD_TO_CART', 'PURCHASE').filter((e) => !e.contentId)).toEqual([]);
    expect(ofType('PURCHASE').filter((e) => typeof e.properties.price !== 'number')).toEqual([]);
    expect(ofType('SEARCH').filter((e) => !e.properties.query)).toEqual([]);
  });

  it('injects fraud that trips each rule', () => {
    const r = rng(2);
    const home = { country: 'US', city: 'New York', timezone: 'America/New_York' };
    expect(fraudPlan(r, 'burst', home)).toHaveLength(40);
    expect(fraudPlan(r, 'expensive', home).find((s) => s.type === 'PURCHASE')!.properties.price).toBeGreaterThan(5_000);
    expect(new Set(fraudPlan(r, 'ip-hopping', home).map((s) => s.ip)).size).toBe(5);
    expect(fraudPlan(r, 'country-hopping', home).some((s) => s.location && s.location.country !== 'US')).toBe(true);
    const p = population(2, 100, 0.05);
    expect(p.fraudsters).toHaveLength(5);
    expect(p.fraudsters.every((id) => id.startsWith('sim-fraud-'))).toBe(true);
  });
});
