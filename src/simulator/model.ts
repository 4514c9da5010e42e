/**
 * Simulated users and their sessions, after the activity-tracking showcase this gateway grew
 * from: pages and products of a small electronics shop, an event mix of about 60% page views,
 * 25% clicks, 10% searches, 3% add-to-cart and 2% purchases, three kinds of users (browsers,
 * researchers who search before buying, buyers who add to cart before purchasing), devices,
 * locations and IP addresses. Pure and seeded: the same seed gives the same traffic.
 */

export type UserKind = 'browser' | 'researcher' | 'buyer';
export type FraudKind = 'burst' | 'expensive' | 'ip-hopping' | 'country-hopping';

export interface SimEvent {
  userId: string;
  type: 'PAGE_VIEW' | 'CLICK' | 'SEARCH' | 'PRODUCT_VIEW' | 'ADD_TO_CART' | 'PURCHASE';
  sessionId: string;
  pageUrl: string;
  contentId?: string;
  properties: Record<string, unknown>;
  device: { type: 'DESKTOP' | 'MOBILE' | 'TABLET'; os: string; browser: string };
  location: { country: string; city: string; timezone: string };
  /** Sent as X-Forwarded-For (counts when the gateway trusts one proxy hop). */
  ip: string;
}

export const PRODUCTS = [
  { id: 'PROD-001', name: 'Laptop', price: 999.99, category: 'electronics', page: '/products/laptop' },
  { id: 'PROD-002', name: 'Mouse', price: 29.99, category: 'accessories', page: '/products/mouse' },
  { id: 'PROD-003', name: 'Keyboard', price: 79.99, category: 'accessories', page: '/products/keyboard' },
  { id: 'PROD-004', name: 'Monitor', price: 299.99, category: 'electronics', page: '/products/monitor' },
] as const;
export const PAGES = ['/', '/category/electronics', '/category/accessories', '/deals', '/about'] as const;
const QUERIES = ['laptop', 'laptop deals', 'wireless mouse', 'mechanical keyboard', '4k monitor', 'usb-c hub'];
const DEVICES = [
  { type: 'DESKTOP', os: 'Windows', browser: 'Chrome' },
  { type: 'DESKTOP', os: 'Mac OS', browser: 'Safari' },
  { type: 'MOBILE', os: 'iOS', browser: 'Mobile Safari' },
  { type: 'MOBILE', os: 'Android', browser: 'Chrome' },
  { type: 'TABLET', os: 'iOS', browser: 'Mobile Safari' },
] as const;
const PLACES = [
  { country: 'US', city: 'New York', timezone: 'America/New_York' },
  { country: 'US', city: 'San Francisco', timezone: 'America/Los_Angeles' },
  { country: 'GB', city: 'London', timezone: 'Europe/London' },
  { country: 'DE', city: 'Berlin', timezone: 'Europe/Berlin' },
  { country: 'JP', city: 'Tokyo', timezone: 'Asia/Tokyo' },
  { country: 'BR', city: 'São Paulo', timezone: 'America/Sao_Paulo' },
] as const;

/** A small seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

export interface SimUser {
  userId: string;
  kind: UserKind;
  fraud?: FraudKind;
  device: SimEvent['device'];
  location: SimEvent['location'];
  ip: string;
  /** What the user does next, in order; refilled with a new session when empty. */
  plan: Array<Omit<SimEvent, 'userId' | 'sessionId' | 'device' | 'location' | 'ip'> & Partial<Pick<SimEvent, 'ip' | 'location'>>>;
  session: number;
}

type Step = SimUser['plan'][number];
const view = (r: () => number): Step => ({ type: 'PAGE_VIEW', pageUrl: pick(r, PAGES), properties: {} });
const click = (r: () => number): Step => ({ type: 'CLICK', pageUrl: pick(r, PAGES), properties: { element: pick(r, ['nav', 'banner', 'card', 'footer']) } });
const search = (r: () => number): Step => ({ type: 'SEARCH', pageUrl: '/search', properties: { query: pick(r, QUERIES), resultsCount: Math.floor(r() * 40) } });
const product = (p: (typeof PRODUCTS)[number]): Step => ({ type: 'PRODUCT_VIEW', pageUrl: p.page, contentId: p.id, properties: { productName: p.name, price: p.price, category: p.category } });
const cart = (p: (typeof PRODUCTS)[number]): Step => ({ type: 'ADD_TO_CART', pageUrl: p.page, contentId: p.id, properties: { price: p.price, quantity: 1, category: p.category } });
const purchase = (p: (typeof PRODUCTS)[number], price: number = p.price): Step => ({ type: 'PURCHASE', pageUrl: '/checkout', contentId: p.id, properties: { price, quantity: 1, currency: 'USD', category: p.category } });

/**
 * One session of a user of `kind`. Weighted so that a mixed population lands near the seed's mix:
 * browsers mostly view and click, researchers search and compare before they (sometimes) buy,
 * buyers go to a product, add it to the cart and purchase it.
 */
export function session(r: () => number, kind: UserKind): Step[] {
  const steps: Step[] = [view(r)];
  const views = (n: number) => {
    for (let i = 0; i < n; i++) steps.push(r() < 0.74 ? view(r) : click(r));
  };
  if (kind === 'browser') {
    views(4 + Math.floor(r() * 6));
    if (r() < 0.6) steps.push(search(r));
  } else if (kind === 'researcher') {
    views(2 + Math.floor(r() * 4));
    steps.push(search(r));
    const p = pick(r, PRODUCTS);
    steps.push(click(r), product(p));
    views(1 + Math.floor(r() * 3));
    steps.push(search(r));
    if (r() < 0.3) steps.push(cart(p), view(r), purchase(p));
  } else {
    const p = pick(r, PRODUCTS);
    views(2 + Math.floor(r() * 5));
    steps.push(click(r), product(p), click(r), cart(p));
    views(1 + Math.floor(r() * 2));
    steps.push(purchase(p));
  }
  return steps;
}

/** What an injected fraudster does: enough to trip exactly its rule. */
export function fraudPlan(r: () => number, kind: FraudKind, home: SimEvent['location']): Step[] {
  const p = pick(r, PRODUCTS);
  switch (kind) {
    case 'burst':
      return Array.from({ length: 40 }, () => (r() < 0.5 ? view(r) : click(r)));
    case 'expensive':
      return [view(r), product(p), cart(p), purchase(p, 9_999)];
    case 'ip-hopping':
      return ['198.51.100.10', '198.51.100.11', '203.0.113.12', '203.0.113.13', '192.0.2.14'].map((ip) => ({ ...view(r), ip }));
    case 'country-hopping': {
      const away = PLACES.find((x) => x.country !== home.country && x.country !== 'US') ?? PLACES[4];
      return [view(r), { ...view(r), location: { ...away } }, view(r)];
    }
  }
}

export interface Population {
  users: SimUser[];
  fraudsters: string[];
}

/** `count` users, a share of them (`fraudShare`, at least one when above 0) fraudsters. */
export function population(seed: number, count: number, fraudShare: number): Population {
  const r = rng(seed);
  const kinds: FraudKind[] = ['burst', 'expensive', 'ip-hopping', 'country-hopping'];
  const fraudCount = fraudShare > 0 ? Math.max(1, Math.round(count * fraudShare)) : 0;
  const users: SimUser[] = [];
  for (let i = 0; i < count; i++) {
    const fraud = i < fraudCount ? kinds[i % kinds.length] : undefined;
    const kind: UserKind = r() < 0.55 ? 'browser' : r() < 0.6 ? 'researcher' : 'buyer';
    const location = { ...pick(r, PLACES) };
    users.push({
      userId: fraud ? `sim-fraud-${fraud}-${i}` : `sim-${kind}-${i}`,
      kind,
      fraud,
      device: { ...pick(r, DEVICES) },
      location,
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      plan: fraud ? fraudPlan(r, fraud, location) : session(r, kind),
      session: 0,
    });
  }
  return { users, fraudsters: users.filter((u) => u.fraud).map((u) => u.userId) };
}

/** The next event of `u`, starting a new session when the current one is over. */
export function nextEvent(r: () => number, u: SimUser): SimEvent {
  if (u.plan.length === 0) {
    u.session++;
    u.plan = session(r, u.kind);
  }
  const step = u.plan.shift()!;
  return {
    userId: u.userId,
    sessionId: `${u.userId}-s${u.session}`,
    device: u.device,
    location: step.location ?? u.location,
    ip: step.ip ?? u.ip,
    ...step,
  } as SimEvent;
}
