import { randomUUID } from 'node:crypto';
import { ActivityType, DeviceType } from '../../src/domain/activity';
import { correctedOccurredAt, MAX_FUTURE_MS, stamp } from '../../src/domain/stamping';
import { DeviceDetector } from '../../src/domain/user-agent';

const receivedAt = new Date('2024-01-15T10:00:00.000Z');
const ctx = (over: Partial<Parameters<typeof stamp>[1]> = {}) => ({
  userId: 'u1',
  eventId: randomUUID(),
  receivedAt,
  ipAddress: '203.0.113.7',
  userAgent: null,
  devices: new DeviceDetector(),
  ...over,
});
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

describe('stamping', () => {
  it('corrects client clock skew: occurredAt = receivedAt - (sentAt - occurredAt)', () => {
    // The client clock is an hour behind: it says the event happened 5 s before it sent it.
    const occurredAt = new Date('2024-01-15T08:59:50.000Z');
    const sentAt = new Date('2024-01-15T08:59:55.000Z');
    expect(correctedOccurredAt({ occurredAt, sentAt }, receivedAt).toISOString()).toBe('2024-01-15T09:59:55.000Z');
    expect(correctedOccurredAt({ occurredAt, sentAt: null }, receivedAt)).toBe(occurredAt);
    expect(correctedOccurredAt({ occurredAt: null, sentAt }, receivedAt)).toBe(receivedAt);
  });

  it('stamps ids, times, address and agent into a contract value', () => {
    const eventId = randomUUID();
    const r = stamp({ type: ActivityType.PAGE_VIEW, pageUrl: '/home' }, ctx({ eventId, userAgent: IPHONE }));
    if (!('value' in r)) throw new Error('expected a value');
    expect(r.value).toMatchObject({
      schemaVersion: 1,
      eventId,
      userId: 'u1',
      type: 'PAGE_VIEW',
      occurredAt: receivedAt.toISOString(),
      receivedAt: receivedAt.toISOString(),
      pageUrl: '/home',
      properties: {},
      ipAddress: '203.0.113.7',
      userAgent: IPHONE,
      device: { type: DeviceType.MOBILE, os: 'iOS', browser: 'Mobile Safari' },
    });
  });

  it('keeps the device the client sent instead of deriving one', () => {
    const r = stamp({ type: ActivityType.CLICK, device: { type: DeviceType.TV, id: 'tv-1' } }, ctx({ userAgent: IPHONE }));
    expect('value' in r && r.value.device).toEqual({ type: DeviceType.TV, id: 'tv-1' });
  });

  it('rejects an occurredAt after sentAt, and one in the future after correction', () => {
    const bad = stamp(
      { type: ActivityType.CLICK, occurredAt: new Date('2024-01-15T10:00:10Z'), sentAt: new Date('2024-01-15T10:00:00Z') },
      ctx(),
      'input.',
    );
    expect('problems' in bad && bad.problems).toEqual([{ path: 'input.occurredAt', message: 'must not be after sentAt' }]);
    const future = stamp({ type: ActivityType.CLICK, occurredAt: new Date(receivedAt.getTime() + MAX_FUTURE_MS + 1) }, ctx(), 'input.');
    expect('problems' in future && future.problems[0]!.path).toBe('input.occurredAt');
    const justInside = stamp({ type: ActivityType.CLICK, occurredAt: new Date(receivedAt.getTime() + MAX_FUTURE_MS) }, ctx());
    expect('value' in justInside).toBe(true);
  });
});
