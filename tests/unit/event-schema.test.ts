import { randomUUID } from 'node:crypto';
import { fullFormats } from 'ajv-formats/dist/formats';
import { isDateTime, validateActivityValue, MAX_PROPERTIES_BYTES } from '../../src/domain/event-schema';

const value = (over: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  eventId: randomUUID(),
  userId: 'u1',
  type: 'PAGE_VIEW',
  occurredAt: '2024-01-15T10:30:45.123Z',
  receivedAt: '2024-01-15T10:30:46.000Z',
  sessionId: null,
  contentId: null,
  pageUrl: '/',
  referrer: null,
  properties: {},
  device: null,
  location: null,
  ipAddress: '127.0.0.1',
  userAgent: null,
  ...over,
});

const paths = (v: unknown) => validateActivityValue(v, 'input.').map((p) => p.path);

describe('the activity value schema', () => {
  it('accepts a well-formed value of every type when the type rules are met', () => {
    expect(validateActivityValue(value())).toEqual([]);
    expect(validateActivityValue(value({ type: 'PURCHASE', contentId: 'p1', properties: { price: 0 } }))).toEqual([]);
    expect(validateActivityValue(value({ type: 'PURCHASE', contentId: 'p1', properties: { amount: 12.5 } }))).toEqual([]);
    expect(validateActivityValue(value({ type: 'SEARCH', properties: { query: 'laptop' } }))).toEqual([]);
    expect(validateActivityValue(value({ type: 'CONTENT_RATING', contentId: 'c', properties: { rating: 5 } }))).toEqual([]);
    expect(validateActivityValue(value({ type: 'PLAYBACK_PAUSE', contentId: 'c', properties: { positionSeconds: 0, durationSeconds: 10 } }))).toEqual([]);
    expect(validateActivityValue(value({ type: 'LOGIN' }))).toEqual([]);
  });

  it.each([
    'SEARCH_RESULT_CLICK', 'PRODUCT_VIEW', 'ADD_TO_CART', 'CONTENT_VIEW', 'PLAYBACK_START', 'PLAYBACK_PAUSE',
    'PLAYBACK_RESUME', 'PLAYBACK_COMPLETE', 'PLAYBACK_ABANDON',
  ])('%s needs contentId', (type) => {
    expect(paths(value({ type }))).toEqual(['input.contentId']);
    expect(paths(value({ type, contentId: '' }))).toEqual(['input.contentId']);
  });

  it('a PURCHASE needs a product and a non-negative numeric price or amount', () => {
    expect(paths(value({ type: 'PURCHASE', properties: {} }))).toEqual(['input.contentId', 'input.properties']);
    expect(paths(value({ type: 'PURCHASE', contentId: 'p', properties: { price: -0.01 } }))).toEqual(['input.properties.price']);
    expect(paths(value({ type: 'PURCHASE', contentId: 'p', properties: { price: '9.99' } }))).toEqual(['input.properties.price']);
    expect(paths(value({ type: 'PURCHASE', contentId: 'p', properties: { amount: -1 } }))).toEqual(['input.properties.amount']);
  });

  it('a SEARCH needs a non-empty query; a rating must be in 0..5', () => {
    expect(paths(value({ type: 'SEARCH' }))).toEqual(['input.properties.query']);
    expect(paths(value({ type: 'SEARCH', properties: { query: '' } }))).toEqual(['input.properties.query']);
    expect(paths(value({ type: 'CONTENT_RATING', contentId: 'c' }))).toEqual(['input.properties.rating']);
    expect(paths(value({ type: 'CONTENT_RATING', contentId: 'c', properties: { rating: 5.5 } }))).toEqual(['input.properties.rating']);
    expect(paths(value({ type: 'CONTENT_RATING', contentId: 'c', properties: { rating: -1 } }))).toEqual(['input.properties.rating']);
  });

  it('playback positions and durations are non-negative numbers', () => {
    expect(paths(value({ type: 'PLAYBACK_COMPLETE', contentId: 'c', properties: { positionSeconds: -1, durationSeconds: 'long' } }))).toEqual([
      'input.properties.positionSeconds',
      'input.properties.durationSeconds',
    ]);
  });

  it('bounds strings, the properties object and its size', () => {
    expect(paths(value({ pageUrl: 'x'.repeat(2049) }))).toEqual(['input.pageUrl']);
    expect(paths(value({ sessionId: 's'.repeat(201) }))).toEqual(['input.sessionId']);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    expect(paths(value({ properties: many }))).toEqual(['input.properties']);
    const big = { blob: 'x'.repeat(MAX_PROPERTIES_BYTES) };
    expect(validateActivityValue(value({ properties: big }))[0]!.message).toMatch(/at most 8192 bytes/);
    expect(paths(value({ properties: [] }))).toEqual(['input.properties']);
  });

  it('refuses U+0000 in any string or key, at any depth (PostgreSQL cannot store it)', () => {
    expect(paths(value({ pageUrl: '/a\u0000' }))).toEqual(['input.pageUrl']);
    expect(paths(value({ properties: { tags: ['ok', 'bad\u0000'] } }))).toEqual(['input.properties.tags.1']);
    expect(paths(value({ properties: { nested: { 'k\u0000': 1 } } }))).toEqual(['input.properties.nested']);
    expect(paths(value({ device: { type: 'MOBILE', os: 'i\u0000OS' } }))).toEqual(['input.device.os']);
    expect(validateActivityValue(value({ pageUrl: '/\u0000' }))[0]!.message).toBe('must not contain U+0000');
    expect(paths(value({ pageUrl: '/a\\u0000 is only text' }))).toEqual([]);
  });

  it('refuses a lone surrogate in any string or key (PostgreSQL cannot store it), and takes a pair', () => {
    expect(paths(value({ pageUrl: '/a\ud800' }))).toEqual(['input.pageUrl']);
    expect(paths(value({ properties: { tags: ['ok', '\udc00x'] } }))).toEqual(['input.properties.tags.1']);
    expect(paths(value({ properties: { nested: { 'k\ud83d': 1 } } }))).toEqual(['input.properties.nested']);
    expect(validateActivityValue(value({ pageUrl: '/\ud800' }))[0]!.message).toMatch(/lone surrogate/);
    expect(paths(value({ pageUrl: '/\ud83d\ude00', properties: { q: '\u{1F600}' } }))).toEqual([]);
  });

  it('reports every problem of an input together, each with its path', () => {
    const problems = validateActivityValue(
      value({ type: 'PURCHASE', properties: { price: -5 }, device: { type: 'PHONE', colour: 'red' } }),
      'inputs.3.',
    );
    expect(problems.map((p) => p.path).sort()).toEqual([
      'inputs.3.contentId',
      'inputs.3.device.colour',
      'inputs.3.device.type',
      'inputs.3.properties.price',
    ]);
    for (const p of problems) expect(p.message.length).toBeGreaterThan(3);
  });

  it('rejects what a consumer must not store: unknown fields, wrong version, bad ids and dates', () => {
    expect(paths(value({ extra: 1 }))).toEqual(['input.extra']);
    expect(paths(value({ schemaVersion: 2 }))).toEqual(['input.schemaVersion']);
    expect(paths(value({ eventId: 'not-a-uuid' }))).toEqual(['input.eventId']);
    expect(paths(value({ occurredAt: 'yesterday' }))).toEqual(['input.occurredAt']);
    expect(paths(value({ type: 'TELEPORT' }))).toEqual(['input.type']);
    expect(paths({ ...value(), userId: undefined })).toEqual(['input.userId']);
  });

  it('judges date-times as ajv-formats does, the stamped form on a shortcut', () => {
    const full = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate;
    const samples = [
      '2024-01-15T10:30:45.123Z', '2024-02-28T23:59:59.999Z', '2024-02-29T00:00:00.000Z', '2023-02-29T00:00:00.000Z', '2023-04-31T12:00:00.000Z',
      '2023-04-30T12:00:00.000Z', '2023-12-31T23:59:59.000Z', '2023-13-01T00:00:00.000Z', '2023-00-10T00:00:00.000Z', '2023-01-00T00:00:00.000Z',
      '2023-01-10T24:00:00.000Z', '2023-01-10T23:60:00.000Z', '2023-01-10T23:59:60.000Z', '2023-01-10T10:00:00Z', '2023-01-10T10:00:00.1+02:00',
      '2023-01-10t10:00:00.000z', '2023-01-10 10:00:00.000Z', '2023-01-10T10:00:00.000', '2023-1-10T10:00:00.000Z', 'yesterday', '',
    ];
    for (const s of samples) expect([s, isDateTime(s)]).toEqual([s, full(s)]);
    expect(paths(value({ occurredAt: '2023-02-29T00:00:00.000Z' }))).toEqual(['input.occurredAt']);
    expect(paths(value({ occurredAt: '2024-02-29T00:00:00.000Z' }))).toEqual([]);
  });
});
