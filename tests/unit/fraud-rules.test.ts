import { randomUUID } from 'node:crypto';
import type { ActivityValue } from '../../src/domain/activity';
import { FraudDetector } from '../../src/fraud/detector';
import {
  alertId,
  DEFAULT_THRESHOLDS as T,
  geoJump,
  highValuePurchase,
  highVelocity,
  multipleIps,
  purchaseVelocity,
  type UserHistory,
} from '../../src/fraud/rules';
import { ActivityType, FraudRule } from '../../src/domain/enums';

const T0 = Date.parse('2024-03-01T12:00:00Z');
function ev(atMs: number, over: Partial<ActivityValue> = {}): ActivityValue {
  const at = new Date(T0 + atMs).toISOString();
  return {
    schemaVersion: 1,
    eventId: randomUUID(),
    userId: 'u',
    type: ActivityType.CLICK,
    occurredAt: at,
    receivedAt: at,
    sessionId: null,
    contentId: null,
    pageUrl: null,
    referrer: null,
    properties: {},
    device: null,
    location: null,
    ipAddress: '10.0.0.1',
    userAgent: null,
    ...over,
  };
}
const hist = (events: ActivityValue[], priorPurchases = 0, priorSpend = 0): UserHistory => ({ userId: 'u', events, priorPurchases, priorSpend });
const buy = (atMs: number, price: number) => ev(atMs, { type: ActivityType.PURCHASE, contentId: 'p', properties: { price } });

describe('HIGH_VELOCITY', () => {
  const burst = (n: number, spacingMs: number) => Array.from({ length: n }, (_, i) => ev(i * spacingMs));
  it('fires when the 30th event lands within a minute, once', () => {
    const events = burst(30, 1_000);
    const a = highVelocity(hist(events), T);
    expect(a).toMatchObject({ rule: 'HIGH_VELOCITY', severity: 'MEDIUM', userId: 'u', detectedAt: events[29]!.receivedAt });
    expect(a!.eventIds).toHaveLength(30);
    expect(highVelocity(hist(burst(31, 1_000)), T)).toBeNull(); // already raised at the 30th
  });
  it('does not fire at 29 events', () => expect(highVelocity(hist(burst(29, 1_000)), T)).toBeNull());
  it('counts only the last minute: events exactly a minute before the newest are out', () => {
    // 30 events, the first exactly 60 s before the last: 29 in the window.
    const events = [ev(0), ...Array.from({ length: 29 }, (_, i) => ev(60_000 - 28 + i))];
    expect(highVelocity(hist(events), T)).toBeNull();
    const inside = [ev(1), ...Array.from({ length: 29 }, (_, i) => ev(60_000 - 28 + i))];
    expect(highVelocity(hist(inside), T)).not.toBeNull();
  });
});

describe('PURCHASE_VELOCITY', () => {
  it('fires at the 5th purchase within 10 minutes, not at the 4th', () => {
    const four = [buy(0, 10), buy(60_000, 10), buy(120_000, 10), buy(180_000, 10)];
    expect(purchaseVelocity(hist(four), T)).toBeNull();
    const five = [...four, buy(599_000, 10)];
    expect(purchaseVelocity(hist(five), T)).toMatchObject({ rule: 'PURCHASE_VELOCITY', severity: 'HIGH', details: { purchases: 5 } });
  });
  it('does not count a purchase 10 minutes old', () => {
    const spread = [buy(0, 10), buy(60_000, 10), buy(120_000, 10), buy(180_000, 10), buy(600_000, 10)];
    expect(purchaseVelocity(hist(spread), T)).toBeNull();
  });
});

describe('HIGH_VALUE_PURCHASE', () => {
  it('fires above the absolute threshold, not at it', () => {
    expect(highValuePurchase(hist([buy(0, 5_000)]), T)).toBeNull();
    expect(highValuePurchase(hist([buy(0, 5_000.01)]), T)).toMatchObject({ rule: 'HIGH_VALUE_PURCHASE', details: { value: 5000.01 } });
  });
  it('fires far above the usual order once there is a history', () => {
    // Usual order 50 over three purchases: 10 × 50 = 500 is the line.
    expect(highValuePurchase(hist([buy(0, 40), buy(1_000, 60), buy(2_000, 50), buy(3_000, 500)]), T)).toBeNull();
    expect(highValuePurchase(hist([buy(0, 40), buy(1_000, 60), buy(2_000, 50), buy(3_000, 501)]), T)).not.toBeNull();
    // Two earlier purchases are not a history yet.
    expect(highValuePurchase(hist([buy(0, 40), buy(1_000, 60), buy(3_000, 999)]), T)).toBeNull();
    // Purchases that left the window still count.
    expect(highValuePurchase(hist([buy(3_000, 999)], 3, 150), T)).not.toBeNull();
  });
});

describe('MULTIPLE_IPS', () => {
  const from = (ip: string, at: number) => ev(at, { ipAddress: ip });
  it('fires when a 4th distinct address appears within 10 minutes, not at 3', () => {
    const three = [from('1.1.1.1', 0), from('2.2.2.2', 1_000), from('3.3.3.3', 2_000), from('3.3.3.3', 3_000)];
    expect(multipleIps(hist(three), T)).toBeNull();
    const four = [...three, from('4.4.4.4', 4_000)];
    expect(multipleIps(hist(four), T)).toMatchObject({ rule: 'MULTIPLE_IPS', details: { ipAddresses: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'] } });
    // A repeat of a known address after that raises nothing new.
    expect(multipleIps(hist([...four, from('2.2.2.2', 5_000)]), T)).toBeNull();
  });
  it('forgets addresses older than the window', () => {
    const old = [from('1.1.1.1', 0), from('2.2.2.2', 600_000), from('3.3.3.3', 600_500), from('4.4.4.4', 601_000)];
    expect(multipleIps(hist(old), T)).toBeNull();
  });
});

describe('GEO_JUMP', () => {
  const at = (country: string, ms: number) => ev(ms, { location: { country } });
  it('fires when the country changes within an hour, not at an hour', () => {
    expect(geoJump(hist([at('US', 0), at('JP', 3_599_999)]), T)).toMatchObject({ rule: 'GEO_JUMP', details: { from: 'US', to: 'JP' } });
    expect(geoJump(hist([at('US', 0), at('JP', 3_600_000)]), T)).toBeNull();
    expect(geoJump(hist([at('US', 0), ev(1_000), at('US', 2_000)]), T)).toBeNull();
  });
});

describe('alert ids', () => {
  it('are the same for the same rule, user and evidence, and differ otherwise', () => {
    expect(alertId(FraudRule.GEO_JUMP, 'u', 'e1')).toBe(alertId(FraudRule.GEO_JUMP, 'u', 'e1'));
    expect(alertId(FraudRule.GEO_JUMP, 'u', 'e1')).not.toBe(alertId(FraudRule.GEO_JUMP, 'v', 'e1'));
    expect(alertId(FraudRule.GEO_JUMP, 'u', 'e1')).not.toBe(alertId(FraudRule.HIGH_VELOCITY, 'u', 'e1'));
  });
});

describe('FraudDetector', () => {
  it('raises one HIGH_VELOCITY alert for a burst and none for its redelivery', () => {
    const d = new FraudDetector(T, { maxUsers: 100, maxEventsPerUser: 1_000 });
    const burst = Array.from({ length: 40 }, (_, i) => ev(i * 100));
    const alerts = burst.flatMap((e) => d.observe(e));
    expect(alerts.map((a) => a.rule)).toEqual(['HIGH_VELOCITY']);
    expect(burst.flatMap((e) => d.observe(e))).toEqual([]);
  });

  it('gives a restarted detector reading the same events the same alert id', () => {
    const burst = Array.from({ length: 30 }, (_, i) => ev(i * 100));
    const d1 = new FraudDetector(T, { maxUsers: 10, maxEventsPerUser: 100 });
    const d2 = new FraudDetector(T, { maxUsers: 10, maxEventsPerUser: 100 });
    const ids1 = burst.flatMap((e) => d1.observe(e)).map((x) => x.alertId);
    const ids2 = burst.flatMap((e) => d2.observe(e)).map((x) => x.alertId);
    expect(ids1).toHaveLength(1);
    expect(ids2).toEqual(ids1);
  });

  it('bounds the users it tracks and forgets idle ones', () => {
    const d = new FraudDetector(T, { maxUsers: 50, maxEventsPerUser: 10 });
    for (let i = 0; i < 200; i++) d.observe(ev(i, { userId: `u${i}` }));
    expect(d.trackedUsers).toBe(50);
    // Two hours later every earlier user is idle: the periodic sweep forgets them.
    for (let i = 0; i < 1_000; i++) d.observe(ev(2 * 3_600_000 + i, { userId: 'busy' }));
    expect(d.trackedUsers).toBe(1);
  });

  it('keeps at most maxEventsPerUser events of a flooding user', () => {
    const d = new FraudDetector(T, { maxUsers: 10, maxEventsPerUser: 20 });
    for (let i = 0; i < 500; i++) d.observe(ev(i));
    const state = (d as unknown as { users: Map<string, { events: unknown[] }> }).users.get('u')!;
    expect(state.events.length).toBeLessThanOrEqual(20);
  });
});
