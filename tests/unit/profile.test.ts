import { randomUUID } from 'node:crypto';
import type { ActivityValue } from '../../src/domain/activity';
import {
  applyEvents,
  averageCompletion,
  completionOf,
  emptyProfile,
  MAX_PREFERENCES,
  purchaseValue,
  ranked,
  segmentOf,
} from '../../src/domain/profile';
import { ActivityType, DeviceType, UserSegment } from '../../src/domain/enums';

let clock = Date.parse('2024-01-15T10:00:00Z');
function ev(type: ActivityType, over: Partial<ActivityValue> = {}): ActivityValue {
  clock += 1000;
  const at = new Date(clock).toISOString();
  return {
    schemaVersion: 1,
    eventId: randomUUID(),
    userId: 'u1',
    type,
    occurredAt: at,
    receivedAt: at,
    sessionId: null,
    contentId: null,
    pageUrl: null,
    referrer: null,
    properties: {},
    device: null,
    location: null,
    ipAddress: null,
    userAgent: null,
    ...over,
  };
}

describe('profiles', () => {
  it('counts events by type, first and last seen, purchases and spend, devices and countries', () => {
    const events = [
      ev(ActivityType.PAGE_VIEW, { device: { type: DeviceType.MOBILE }, location: { country: 'US' } }),
      ev(ActivityType.PURCHASE, { contentId: 'p1', properties: { price: 19.99, quantity: 2 }, device: { type: DeviceType.MOBILE } }),
      ev(ActivityType.PURCHASE, { contentId: 'p2', properties: { amount: 5 }, location: { country: 'DE' } }),
    ];
    const p = applyEvents(emptyProfile('u1'), events, 1);
    expect(p.totalEvents).toBe(3);
    expect(p.eventCounts).toEqual({ PAGE_VIEW: 1, PURCHASE: 2 });
    expect(p.firstSeenAt).toBe(events[0]!.occurredAt);
    expect(p.lastSeenAt).toBe(events[2]!.occurredAt);
    expect(p.purchaseCount).toBe(2);
    expect(p.totalSpent).toBe(44.98);
    expect(p.devices).toEqual({ MOBILE: 2 });
    expect(p.countries).toEqual({ US: 1, DE: 1 });
    expect(p.sessionCount).toBe(1);
  });

  it('keeps first and last seen right when events arrive out of time order', () => {
    const late = ev(ActivityType.CLICK);
    const early = { ...ev(ActivityType.CLICK), occurredAt: '2020-01-01T00:00:00.000Z' };
    const p = applyEvents(emptyProfile('u1'), [late, early], 0);
    expect(p.firstSeenAt).toBe('2020-01-01T00:00:00.000Z');
    expect(p.lastSeenAt).toBe(late.occurredAt);
  });

  it('weighs preferences by the kind of interaction, strongest first, ratings up or down', () => {
    const p = applyEvents(
      emptyProfile('u1'),
      [
        ev(ActivityType.PRODUCT_VIEW, { contentId: 'laptop', properties: { category: 'electronics' } }),
        ev(ActivityType.PURCHASE, { contentId: 'laptop', properties: { price: 999, category: 'electronics' } }),
        ev(ActivityType.CONTENT_RATING, { contentId: 'film', properties: { rating: 0, category: 'drama' } }),
        ev(ActivityType.PAGE_VIEW, { properties: { category: 'garden' } }),
      ],
      0,
    );
    expect(p.preferences).toEqual({ 'category:electronics': 6, 'content:laptop': 6, 'category:drama': -2, 'content:film': -2, 'category:garden': 0.25 });
    expect(ranked(p.preferences)[0]!.key).toBe('category:electronics');
  });

  it('bounds the preferences it keeps', () => {
    const events = Array.from({ length: MAX_PREFERENCES + 20 }, (_, i) => ev(ActivityType.CONTENT_VIEW, { contentId: `c${i}` }));
    expect(Object.keys(applyEvents(emptyProfile('u1'), events, 0).preferences)).toHaveLength(MAX_PREFERENCES);
  });

  it('averages playback completion, each clamped to [0, 1]', () => {
    expect(completionOf({ properties: { positionSeconds: 150, durationSeconds: 100 } })).toBe(1);
    expect(completionOf({ properties: { positionSeconds: 25, durationSeconds: 100 } })).toBe(0.25);
    expect(completionOf({ properties: { positionSeconds: 25, durationSeconds: 0 } })).toBeNull();
    expect(completionOf({ properties: { positionSeconds: 25 } })).toBeNull();
    const p = applyEvents(
      emptyProfile('u1'),
      [
        ev(ActivityType.PLAYBACK_COMPLETE, { contentId: 'm', properties: { positionSeconds: 120, durationSeconds: 100 } }),
        ev(ActivityType.PLAYBACK_ABANDON, { contentId: 'm', properties: { positionSeconds: 50, durationSeconds: 100 } }),
        ev(ActivityType.CONTENT_VIEW, { contentId: 'm', properties: { positionSeconds: 1, durationSeconds: 100 } }),
      ],
      0,
    );
    expect(averageCompletion(p)).toBe(0.75);
    expect(averageCompletion(emptyProfile('x'))).toBeNull();
  });

  it('computes purchase value from price × quantity or amount', () => {
    expect(purchaseValue({ properties: { price: 10, quantity: 3 } })).toBe(30);
    expect(purchaseValue({ properties: { amount: 7.5 } })).toBe(7.5);
    expect(purchaseValue({ properties: {} })).toBe(0);
  });

  describe('segments', () => {
    const seg = (purchaseCount: number, eventCounts: Record<string, number>) =>
      segmentOf({ purchaseCount, eventCounts, totalEvents: Object.values(eventCounts).reduce((a, b) => a + b, 0) });
    it('BUYER once anything was bought', () => expect(seg(1, { PURCHASE: 1 })).toBe(UserSegment.BUYER));
    it('NEW below five events', () => expect(seg(0, { SEARCH: 4 })).toBe(UserSegment.NEW));
    it('RESEARCHER at 30% searches and product views', () => {
      expect(seg(0, { SEARCH: 2, PRODUCT_VIEW: 1, PAGE_VIEW: 7 })).toBe(UserSegment.RESEARCHER);
      expect(seg(0, { SEARCH: 2, PAGE_VIEW: 8 })).toBe(UserSegment.BROWSER);
    });
  });
});
