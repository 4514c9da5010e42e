import { codecRegistered, codecUnavailable } from '../../src/kafka/codecs';
import { createKafka } from '../../src/kafka/client';
import { COMPRESSIONS, COMPRESSION_TYPES, type Codec } from '../../src/kafka/compression';
import { createLogger } from '../../src/logger';

// No broker: creating the client installs the changes to KafkaJS and registers the codecs.
createKafka({ brokers: ['127.0.0.1:1'], clientId: 'codecs-test', logger: createLogger('silent') });
const kafkajs = require('kafkajs') as typeof import('kafkajs');
const codecs = kafkajs.CompressionCodecs as unknown as Record<number, () => Codec>;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{ records: Array<{ key: Buffer; value: Buffer; headers: Record<string, Buffer> }> }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: Record<string, unknown>) => unknown;

const value = (i: number) => JSON.stringify({ schemaVersion: 1, eventId: `e-${i}`, userId: `u-${i % 7}`, type: 'PAGE_VIEW', pageUrl: `/p/${i % 5}`, properties: { i } });

describe('the codecs registered with KafkaJS', () => {
  const compressed = COMPRESSIONS.filter((c) => c !== 'none');

  it.each(compressed)('%s is registered, and loads here', (name) => {
    expect(codecRegistered(kafkajs, name)).toBe(true);
    expect(codecUnavailable(name)).toBeUndefined();
  });

  it('snappy and lz4 would not be without the registration (KafkaJS ships gzip only)', () => {
    const shipped = require('kafkajs/src/protocol/message/compression') as { Codecs: Record<number, unknown> };
    expect(shipped.Codecs).toBe(kafkajs.CompressionCodecs);
    const fresh = { CompressionCodecs: { ...shipped.Codecs, [COMPRESSION_TYPES.snappy]: () => undefined } } as never;
    expect(codecRegistered(fresh, 'snappy')).toBe(false);
  });

  it.each(compressed)('%s gives back what it compressed, and compresses repetitive records', async (name) => {
    const codec = codecs[COMPRESSION_TYPES[name]]!();
    const input = Buffer.from(Array.from({ length: 200 }, (_, i) => value(i)).join(''));
    const out = await codec.compress({ buffer: input });
    expect(out.length).toBeLessThan(input.length / 2);
    expect((await codec.decompress(out)).equals(input)).toBe(true);
  });

  it('writes LZ4 as an LZ4 frame, what Kafka brokers and Java clients read', async () => {
    const out = await codecs[COMPRESSION_TYPES.lz4]!().compress({ buffer: Buffer.from(value(1).repeat(50)) });
    expect(out.readUInt32LE(0)).toBe(0x184d2204);
  });

  it.each(compressed)('%s round-trips a record batch through KafkaJS (with its encoders as changed here)', async (name) => {
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `u-${i % 7}`, value: value(i), headers: { 'event-type': 'PAGE_VIEW', 'schema-version': '1' } }));
    const records = messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: 0 }));
    const encoded = await RecordBatch({ compression: COMPRESSION_TYPES[name], records, lastOffsetDelta: records.length - 1 });
    const batch = await decodeBatch(new Decoder(encoded.buffer));
    expect(batch.records.map((r) => [r.key.toString(), r.value.toString(), r.headers['event-type']!.toString()])).toEqual(
      messages.map((m) => [m.key, m.value, 'PAGE_VIEW']),
    );
  });
});
