import { randomUUID } from 'node:crypto';
import { decodeCursor, encodeCursor } from '../../src/domain/cursor';
import { ActivityProcessor, parseActivity, rawText, RAW_VALUE_LIMIT } from '../../src/processing/processor';
import type { Store } from '../../src/store';

describe('cursors', () => {
  it('round-trip a position and refuse other lists and garbage', () => {
    const c = encodeCursor('ev', 12345);
    expect(decodeCursor('ev', c)).toBe(12345);
    expect(decodeCursor('fe', c)).toBeNull();
    expect(decodeCursor('ev', 'not-a-cursor')).toBeNull();
    expect(decodeCursor('ev', Buffer.from('ev:-1').toString('base64url'))).toBeNull();
  });
});

describe('parsing consumed records', () => {
  const good = {
    schemaVersion: 1,
    eventId: randomUUID(),
    userId: 'u',
    type: 'CLICK',
    occurredAt: '2024-01-15T12:00:00+02:00',
    receivedAt: '2024-01-15T10:00:01Z',
    properties: {},
  };
  it('accepts a valid value and normalizes its times', () => {
    const r = parseActivity(Buffer.from(JSON.stringify(good)));
    expect('value' in r && r.value.occurredAt).toBe('2024-01-15T10:00:00.000Z');
  });
  it.each([
    [Buffer.from([0xff, 0xfe, 0x00]), /^not JSON/],
    [Buffer.from('[1,2,3]'), /not a JSON object \(got an array\)/],
    [Buffer.from('"text"'), /not a JSON object \(got string\)/],
    [Buffer.from(JSON.stringify({ ...good, type: 'PURCHASE' })), /^schema: contentId is required/],
    [null, /tombstone/],
  ])('says why %p is not an activity', (bytes, reason) => {
    const r = parseActivity(bytes as Buffer | null);
    expect('reason' in r && r.reason).toMatch(reason);
  });
  it('keeps at most 8 KiB of the raw value, invalid bytes replaced', () => {
    expect(rawText(Buffer.from([0x61, 0xff]))).toBe('a\uFFFD');
    expect(rawText(Buffer.alloc(RAW_VALUE_LIMIT + 100, 0x61)).length).toBe(RAW_VALUE_LIMIT);
  });
});

describe('a large group', () => {
  it('is parsed in turns of the event loop, so the transaction before it is not kept waiting', async () => {
    const value = (i: number) =>
      Buffer.from(JSON.stringify({ schemaVersion: 1, eventId: `e-${i}`, userId: `u-${i % 7}`, type: 'CLICK', occurredAt: '2024-01-15T10:00:00.000Z', receivedAt: '2024-01-15T10:00:01.000Z', properties: {} }));
    const records = Array.from({ length: 5_000 }, (_, i) => ({ key: null, value: value(i), offset: String(i) }));
    let turns = 0;
    let turnsBeforeStore = -1;
    let storedEvents = 0;
    const store = {
      // What storeBatch hands its transaction: the group's prepared statement; nothing is stored here.
      transaction: async () => {
        turnsBeforeStore = turns;
        return { stored: [], inserted: 0 };
      },
    } as unknown as Store;
    const processor = new ActivityProcessor({
      store,
      publisher: { publish: async () => [] },
      topics: { activity: 'a', alerts: 'al', processed: 'p', dlq: 'd' },
      afterStore: async () => {
        storedEvents++;
      },
    });
    const ticking = setInterval(() => turns++, 0);
    try {
      const { settled } = await processor.processDeferred([{ topic: 'a', partition: 0, records }]);
      await settled;
    } finally {
      clearInterval(ticking);
    }
    expect(storedEvents).toBe(1);
    // Timers ran while the 5,000 records were parsed (in one synchronous pass none could).
    expect(turnsBeforeStore).toBeGreaterThanOrEqual(3);
  });
});
