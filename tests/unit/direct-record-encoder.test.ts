const Long = require('kafkajs/src/utils/long') as { fromNumber(n: number): unknown };

// KafkaJS's own record encoding, taken before the gateway's module replaces it.
const original = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: unknown) => { buffer: Buffer };
const { createKafka } = require('../../src/kafka/client') as typeof import('../../src/kafka/client');
const { createLogger } = require('../../src/logger') as typeof import('../../src/logger');
// A client is created, as in the gateway: that installs the replacement (no broker is contacted).
createKafka({ brokers: ['127.0.0.1:9092'], clientId: 'patch-test', logger: createLogger('silent') });
const wired = require('kafkajs/src/protocol/recordBatch/record/v0') as unknown;
const { encodeRecord, directRecordEncoderInstalled } = require('../../src/kafka/direct-record-encoder') as typeof import('../../src/kafka/direct-record-encoder');

const json = JSON.stringify({ eventId: 'e-1', userId: 'u-ü', type: 'PAGE_VIEW', pageUrl: '/p/ß?q=✓', properties: { n: 1 } });

describe('direct record encoding', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['a processed event: string key and value, three headers', { offsetDelta: 7, timestampDelta: 12, key: 'user-1', value: json, headers: { 'event-type': 'PAGE_VIEW', 'schema-version': '1', 'content-type': 'application/json' } }],
    ['buffer key and value, no headers', { key: Buffer.from('k'), value: Buffer.from(json) }],
    ['null key (spread over partitions), Long timestamp delta', { offsetDelta: 300, timestampDelta: Long.fromNumber(1_234_567_890), key: null, value: 'v' }],
    ['a header with several values and a buffer header value', { key: 'k', value: 'x'.repeat(70_000), headers: { a: ['1', '22'], b: Buffer.from([0, 1, 2]), 'ü-key': 'wert' } }],
    ['a large offset delta and an empty value', { offsetDelta: 1_000_000, timestampDelta: 0, key: '', value: '' }],
    ['an empty buffer value and empty header values', { key: 'k', value: Buffer.alloc(0), headers: { e: '', f: Buffer.alloc(0) } }],
    ['a negative timestamp delta', { timestampDelta: -5, key: 'k', value: 'v' }],
    ...[2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 31, 5e12, -5e12, 63, 64, -64, -65].map(
      (d): [string, Record<string, unknown>] => [`timestamp delta ${d} (a number, on either side of the 32-bit fast path)`, { timestampDelta: d, key: 'k', value: 'v' }],
    ),
    ['the largest offset delta a 32-bit varint holds', { offsetDelta: 2 ** 31 - 1, key: 'k', value: 'v' }],
  ];
  it.each(cases)('writes the same bytes as KafkaJS 2.2.4: %s', (_, args) => {
    expect(Buffer.compare(encodeRecord(args as never).buffer, original(args).buffer)).toBe(0);
  });

  it('throws where KafkaJS throws: a header without a value, a number as a value, a fractional timestamp delta', () => {
    const bad = [{ key: 'k', value: 'v', headers: { h: null } }, { key: 'k', value: 42 }, { timestampDelta: 1.5, key: 'k', value: 'v' }];
    for (const args of bad) {
      expect(() => original(args)).toThrow();
      expect(() => encodeRecord(args as never)).toThrow();
    }
  });

  it('answers as a KafkaJS Encoder over exactly the record’s bytes', () => {
    const Encoder = require('kafkajs/src/protocol/encoder') as new () => unknown;
    const e = encodeRecord({ key: 'k', value: json }) as unknown as { buf: Buffer; offset: number; buffer: Buffer };
    expect(e).toBeInstanceOf(Encoder);
    expect(e.buf.length).toBe(e.offset);
    expect(e.buffer.length).toBe(e.offset);
  });

  it('is what KafkaJS’s produce request encodes records with once the gateway has created a Kafka client', () => {
    expect(directRecordEncoderInstalled()).toBe(true);
    expect(wired).toBe(encodeRecord);
  });
});
