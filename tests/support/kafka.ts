import type { Kafka } from 'kafkajs';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { BROKERS, uniqueName, waitFor } from './harness';

export interface ReadRecord {
  key: string | null;
  value: Buffer;
  json: any;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

export function testKafka(brokers = BROKERS): Kafka {
  return createKafka({ brokers: [brokers], clientId: uniqueName('test'), logger: createLogger('silent') });
}

/** Records in a topic right now (sum of high watermarks minus low). */
export async function recordCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads a topic from the beginning with a fresh consumer group until `count` records arrived
 * (or the deadline passes), returning them in arrival order.
 */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 50 });
  const out: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        let json: unknown;
        try {
          json = JSON.parse(message.value!.toString('utf8'));
        } catch {
          json = undefined;
        }
        out.push({
          key: message.key?.toString('utf8') ?? null,
          value: message.value!,
          json,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          partition,
          offset: message.offset,
        });
      },
    });
    await waitFor(() => (out.length >= count ? true : undefined), timeoutMs, `${count} records on ${topic} (got ${out.length})`);
    return out;
  } finally {
    await consumer.disconnect();
  }
}

/** Whether `groupId` has committed offsets up to the end of every partition of `topic`. */
export async function caughtUp(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return ends.every((e) => Number(e.high) === 0 || (at.get(e.partition) ?? -1) >= Number(e.high));
  } finally {
    await admin.disconnect();
  }
}
