import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { COMPRESSION_TYPES, type Compression } from '../../src/kafka/compression';
import { Leftovers, PG_URL, RECORD_MANY, graphql, startGateway, token, waitFor, type TestGateway } from '../support/harness';
import { readTopic, testKafka } from '../support/kafka';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

let kafka: Kafka;
beforeAll(() => {
  // Created through createKafka, which registers the codecs with KafkaJS: the plain consumer below.
  kafka = testKafka();
});

/**
 * Calls of each codec, counted around the factories `registerCodecs` put in KafkaJS's
 * `CompressionCodecs` (gzip's is KafkaJS's own): KafkaJS's record batch encoder and its fetch
 * decoder look a batch's codec up there, so a count above zero means batches of that codec
 * went to the broker and came back from it.
 */
const calls = new Map<number, { compress: number; decompress: number }>();
/** Wraps the codecs as they are now: after a gateway started (`createKafka` registers them again). */
function countCodecCalls(): void {
  const codecs = (require('kafkajs') as typeof import('kafkajs')).CompressionCodecs as unknown as Record<number, () => any>;
  for (const type of [COMPRESSION_TYPES.gzip, COMPRESSION_TYPES.snappy, COMPRESSION_TYPES.lz4]) {
    const original = codecs[type]!;
    const count = { compress: 0, decompress: 0 };
    calls.set(type, count);
    codecs[type] = () => {
      const codec = original();
      return {
        compress: (encoder: unknown) => {
          count.compress++;
          return codec.compress(encoder);
        },
        decompress: (buffer: Buffer) => {
          count.decompress++;
          return codec.decompress(buffer);
        },
      };
    };
  }
}
const RECORD = `mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId } }`;

async function storedEventIds(gw: TestGateway): Promise<Set<string>> {
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${gw.storeSchema}` });
  await c.connect();
  try {
    return new Set((await c.query<{ event_id: string }>('SELECT event_id FROM activity_events')).rows.map((r) => r.event_id));
  } finally {
    await c.end();
  }
}

describe.each<Compression>(['gzip', 'snappy', 'lz4'])('KAFKA_COMPRESSION=%s', (compression) => {
  const type = COMPRESSION_TYPES[compression];

  it('records compressed events that the processor stores and a plain consumer reads back', async () => {
    const gw = await startGateway(leftovers, { KAFKA_COMPRESSION: compression });
    countCodecCalls();

    const user = `c-${randomUUID()}`;
    // A batch and a single event: each goes out in a produce request of its own.
    const inputs = Array.from({ length: 20 }, (_, i) => ({ userId: user, type: 'PAGE_VIEW', pageUrl: `/page/${i}`, properties: { i, note: 'x'.repeat(200) } }));
    const batch = await graphql(gw.url, RECORD_MANY, { inputs }, token('ingest', ['service']));
    expect(batch.errors).toBeUndefined();
    const single = await graphql(gw.url, RECORD, { input: { type: 'PURCHASE', contentId: 'laptop', properties: { price: 12.5 } } }, token(user));
    expect(single.errors).toBeUndefined();
    const ids = [...(batch.data!.recordActivities as Array<{ eventId: string }>).map((r) => r.eventId), single.data!.recordActivity.eventId as string];

    const activities = await readTopic(kafka, gw.config.kafka.topics.activity, ids.length);
    expect(activities.map((r) => r.json.eventId).sort()).toEqual([...ids].sort());
    expect(activities.every((r) => r.key === user && r.headers['content-type'] === 'application/json')).toBe(true);
    expect(activities.find((r) => r.json.eventId === ids[3])!.json.properties).toEqual({ i: 3, note: 'x'.repeat(200) });

    await waitFor(async () => {
      const stored = await storedEventIds(gw);
      return ids.every((id) => stored.has(id)) ? true : undefined;
    }, 20_000, 'the processor to store every event');
    // The processor's own producer compresses too: its processed events decode as well.
    const processed = await readTopic(kafka, gw.config.kafka.topics.processed, ids.length);
    expect(new Set(processed.map((r) => r.json.eventId))).toEqual(new Set(ids));

    const counted = calls.get(type)!;
    expect(counted.compress).toBeGreaterThanOrEqual(3); // the batch, the single event, the processed events
    expect(counted.decompress).toBeGreaterThanOrEqual(2); // the activities and the processed events read back
    for (const [t, c] of calls) if (t !== type) expect(c.compress).toBe(0);
  });
});
