import { ActivityType } from '../../src/domain/enums';
import { parseProcessedEvent, type SequencedEvent } from '../../src/domain/processed-event';

const event: SequencedEvent = {
  schemaVersion: 1,
  eventId: '6f1c2a52-8d5e-4a57-9f0e-000000000001',
  userId: 'u1',
  type: ActivityType.PAGE_VIEW,
  occurredAt: '2026-12-01T10:00:00.000Z',
  receivedAt: '2026-12-01T10:00:00.010Z',
  processedAt: '2026-12-01T10:00:00.050Z',
  sessionId: 's1',
  contentId: null,
  pageUrl: '/home',
  referrer: null,
  properties: {},
  device: { type: null },
  location: null,
  ipAddress: '127.0.0.1',
  userAgent: null,
  partition: 2,
  offset: '41',
  seq: 7,
  prevSeq: 5,
};
/** A value as the processor writes it: the sequenced event with its cursor appended. */
const value = (e: object, cursor = 'ZXY6Nw') => `${JSON.stringify(e).slice(0, -1)},"cursor":${JSON.stringify(cursor)}}`;

describe('parseProcessedEvent', () => {
  it('reads a value as the processor writes it', () => {
    const r = parseProcessedEvent(Buffer.from(value(event)));
    expect(r).toEqual({ event: { ...event, cursor: 'ZXY6Nw' } });
  });

  it.each([
    ['not JSON', 'garbage', /not JSON/],
    ['an array', '[1,2]', /not a JSON object/],
    ['no seq', value({ ...event, seq: undefined }), /seq/],
    ['a predecessor that is not before it', value({ ...event, prevSeq: 7 }), /prevSeq/],
    ['an unknown type', value({ ...event, type: 'TELEPORT' }), /type/],
    ['a numeric user', value({ ...event, userId: 42 }), /userId/],
    ['properties that are not an object', value({ ...event, properties: [] }), /properties/],
    ['no cursor', JSON.stringify(event), /cursor/],
  ])('refuses %s, saying why', (_what, text, reason) => {
    const r = parseProcessedEvent(text);
    expect('reason' in r && r.reason).toMatch(reason);
  });
});
