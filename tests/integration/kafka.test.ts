import type { Consumer, Producer } from 'kafkajs';
import { createKafka, KafkaAdmin } from '../../src/kafka/client';
import { topicSpecs } from '../../src/kafka/topics';
import { BatchingPublisher } from '../../src/kafka/publisher';
import { FanoutConsumer } from '../../src/kafka/fanout-consumer';
import { readTopic } from '../support/kafka';
import { createLogger } from '../../src/logger';
import { BROKERS, Leftovers, uniqueName, waitFor } from '../support/harness';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

describe('the local Kafka broker', () => {
  const kafka = createKafka({ brokers: [BROKERS], clientId: uniqueName('kafka-test'), logger: createLogger('silent') });

  it('creates the contract topics with their partition counts, once', async () => {
    const admin = new KafkaAdmin(kafka);
    await admin.start();
    leftovers.add(() => admin.stop());
    const p = uniqueName('topics');
    const specs = topicSpecs({ activity: `${p}.a`, processed: `${p}.p`, alerts: `${p}.al`, dlq: `${p}.dlq` }, 4);
    expect(await admin.ensureTopics(specs)).toHaveLength(4);
    expect(await admin.ensureTopics(specs)).toEqual([]);
    const counts = await admin.partitionCounts(specs.map((s) => s.name));
    expect(Object.fromEntries(counts)).toEqual({ [`${p}.a`]: 4, [`${p}.p`]: 4, [`${p}.al`]: 4, [`${p}.dlq`]: 1 });
    await expect(admin.ping()).resolves.toBeUndefined();
  });

  it('lets instances starting together ensure the same new topics: each returns once every partition has a leader', async () => {
    const admins = [new KafkaAdmin(kafka), new KafkaAdmin(kafka), new KafkaAdmin(kafka)];
    for (const a of admins) {
      await a.start();
      leftovers.add(() => a.stop());
    }
    const p = uniqueName('together');
    const specs = topicSpecs({ activity: `${p}.a`, processed: `${p}.p`, alerts: `${p}.al`, dlq: `${p}.dlq` }, 6);
    // Whoever loses the creation race learns "already exists" and must still wait for leaders.
    const created = await Promise.all(admins.map((a) => a.ensureTopics(specs)));
    // Which of them creates depends on timing; at least one finds the topics missing.
    expect(created.some((names) => names.length === 4)).toBe(true);
    for (const a of admins) {
      const meta = await Promise.all(specs.map((s) => a.partitionCount(s.name)));
      expect(meta).toEqual([6, 6, 6, 1]);
    }
  });

  it('round-trips keyed messages with headers through a consumer group', async () => {
    const topic = uniqueName('roundtrip');
    const admin = new KafkaAdmin(kafka);
    await admin.start();
    leftovers.add(() => admin.stop());
    await admin.ensureTopics([{ role: 'activity', name: topic, partitions: 3 }]);

    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    leftovers.add(() => producer.disconnect());
    const sent = await producer.send({
      topic,
      acks: -1,
      messages: [1, 2, 3].map((n) => ({ key: 'user-1', value: JSON.stringify({ n }), headers: { 'event-type': 'CLICK' } })),
    });
    // One key: one partition, consecutive offsets.
    expect(new Set(sent.map((r) => r.partition)).size).toBe(1);

    const received: Array<{ key: string; n: number; header: string; partition: number }> = [];
    const consumer: Consumer = kafka.consumer({ groupId: uniqueName('g'), maxWaitTimeInMs: 50 });
    await consumer.connect();
    leftovers.add(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        received.push({
          key: message.key!.toString(),
          n: (JSON.parse(message.value!.toString()) as { n: number }).n,
          header: message.headers!['event-type']!.toString(),
          partition,
        });
      },
    });
    await waitFor(() => (received.length === 3 ? true : undefined), 20_000, 'three messages');
    expect(received.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(received.every((r) => r.key === 'user-1' && r.header === 'CLICK' && r.partition === sent[0]!.partition)).toBe(true);
  });

  it('starts a fan-out consumer at the live end: nothing written before, everything written once start resolves', async () => {
    const topic = uniqueName('fanout');
    const admin = new KafkaAdmin(kafka);
    await admin.start();
    leftovers.add(() => admin.stop());
    await admin.ensureTopics([{ role: 'processed', name: topic, partitions: 3 }]);
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    leftovers.add(() => producer.disconnect());
    const send = (keys: string[]) => producer.send({ topic, acks: -1, messages: keys.map((k) => ({ key: k, value: k })) });
    await send(['old-1', 'old-2', 'old-3']);

    const seen: string[] = [];
    const groupId = uniqueName('fanout-g');
    const fanout = new FanoutConsumer({ kafka, groupId, topics: [topic], logger: createLogger('silent'), maxWaitTimeInMs: 50, onRecord: (_t, v) => void seen.push(v.toString()) });
    await fanout.start();
    leftovers.add(() => fanout.stop());
    // Written the moment start resolves: none of it may fall before where the consumer starts.
    await send(['new-1', 'new-2', 'new-3', 'new-4']);
    await waitFor(() => (seen.length >= 4 ? true : undefined), 20_000, 'the records written after start');
    expect(seen.sort()).toEqual(['new-1', 'new-2', 'new-3', 'new-4']);
  });
});

describe('partition counts', () => {
  it('are looked up once however many callers ask at the same time, and a failed lookup is asked again', async () => {
    const kafka = createKafka({ brokers: [BROKERS], clientId: uniqueName('counts'), logger: createLogger('silent') });
    const admin = new KafkaAdmin(kafka);
    await admin.start();
    leftovers.add(() => admin.stop());
    const topic = uniqueName('counted');
    await admin.ensureTopics([{ role: 'processed', name: topic, partitions: 3 }]);
    const lookups = jest.spyOn(admin, 'partitionCounts');
    // A processor's first publish asks for every record at once.
    const counts = await Promise.all(Array.from({ length: 5_000 }, () => admin.partitionCount(topic)));
    expect(new Set(counts)).toEqual(new Set([3]));
    expect(lookups).toHaveBeenCalledTimes(1);
    const missing = uniqueName('missing');
    await expect(admin.partitionCount(missing)).rejects.toThrow();
    await expect(admin.partitionCount(missing)).rejects.toThrow();
    expect(lookups).toHaveBeenCalledTimes(3);
  });
});

describe('the batching publisher', () => {
  it('splits a publish larger than a broker record batch into several requests, in order, with each position right', async () => {
    const kafka = createKafka({ brokers: [BROKERS], clientId: uniqueName('pub'), logger: createLogger('silent') });
    const admin = new KafkaAdmin(kafka);
    await admin.start();
    leftovers.add(() => admin.stop());
    const topic = uniqueName('big');
    await admin.ensureTopics([{ role: 'processed', name: topic, partitions: 2 }]);
    const publisher = new BatchingPublisher(kafka, {
      lingerMs: 1,
      maxBatchRecords: 10_000,
      timeoutMs: 20_000,
      retries: 2,
      partitionsOf: (t) => admin.partitionCount(t),
      logger: createLogger('silent'),
    });
    await publisher.start();
    leftovers.add(() => publisher.stop());
    // 3,000 records of 1 KB to one key: 3 MB for one partition, three times what a broker takes in one batch.
    const records = Array.from({ length: 3_000 }, (_, i) => ({ topic, key: 'one-user', value: JSON.stringify({ i, pad: 'x'.repeat(1_000) }), headers: {} }));
    const positions = await publisher.publish(records);
    expect(positions).toHaveLength(3_000);
    const offsets = positions.map((p) => Number(p.offset));
    expect(offsets).toEqual(offsets.map((_, i) => offsets[0]! + i));
    const read = await readTopic(kafka, topic, 3_000, 30_000);
    expect(read.map((r) => (JSON.parse(r.value.toString()) as { i: number }).i)).toEqual(records.map((_, i) => i));
  }, 60_000);
});
