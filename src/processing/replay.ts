import type { Kafka } from 'kafkajs';
import { BatchConsumer } from '../kafka/batch-consumer';
import type { Logger } from '../logger';
import { recomputeRisk } from '../store/alert-writer';
import { wipeProcessedState } from '../store/event-writer';
import type { Store } from '../store';
import { ActivityProcessor } from './processor';

export interface ReplayOptions {
  kafka: Kafka;
  store: Store;
  topic: string;
  dlqTopic: string;
  processedTopic: string;
  /** Start of the replay: a time (offsets looked up by timestamp) or the earliest offsets. */
  from: Date | 'earliest';
  /** Empty the processor's tables first, so the store becomes what the log says from `from`. */
  rebuild: boolean;
  groupPrefix: string;
  logger: Logger;
  maxWaitTimeInMs?: number;
}

export interface ReplayResult {
  partitions: number;
  records: number;
  inserted: number;
  failed: number;
}

/**
 * Re-reads the activity topic from `from` up to its end as it is when the replay starts, and
 * re-applies each batch through the processor's own logic (stored eventIds are skipped, so a
 * replay over a live store changes nothing that is already right). Nothing is re-published.
 * Uses a consumer group of its own, deleted at the end.
 */
export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const admin = o.kafka.admin();
  await admin.connect();
  const groupId = `${o.groupPrefix}activity-replay-${Date.now()}`;
  let consumer: BatchConsumer | undefined;
  try {
    const ends = await admin.fetchTopicOffsets(o.topic);
    const starts =
      o.from === 'earliest'
        ? ends.map((p) => ({ partition: p.partition, offset: p.low }))
        : await admin.fetchTopicOffsetsByTimestamp(o.topic, o.from.getTime());
    // A partition with nothing at or after the timestamp reports -1: it starts at its end.
    const endOf = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
    const startOf = new Map(
      starts.map((p) => [p.partition, p.offset === '-1' ? endOf.get(p.partition)! : BigInt(p.offset)]),
    );
    if (o.rebuild) {
      await o.store.transaction((tx) => wipeProcessedState(tx));
      o.logger.info('processed state wiped for rebuild');
    }
    const pending = new Set([...endOf].filter(([p, end]) => startOf.get(p)! < end).map(([p]) => p));
    const result: ReplayResult = { partitions: endOf.size, records: 0, inserted: 0, failed: 0 };
    if (pending.size === 0) {
      if (o.rebuild) await o.store.transaction((tx) => recomputeRisk(tx, new Date()));
      return result;
    }

    const processor = new ActivityProcessor({
      store: o.store,
      publisher: { publish: async () => [] },
      topics: { activity: o.topic, alerts: '', processed: o.processedTopic, dlq: o.dlqTopic },
      publish: false,
    });
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    consumer = new BatchConsumer({
      kafka: o.kafka,
      groupId,
      topics: [o.topic],
      logger: o.logger,
      fromBeginning: true,
      maxWaitTimeInMs: o.maxWaitTimeInMs ?? 100,
      maxBytesPerPartition: 8 * 1024 * 1024,
      seekTo: new Map([...startOf].map(([p, off]) => [p, off.toString()])),
      handle: async (topic, partition, records) => {
        const end = endOf.get(partition)!;
        const start = startOf.get(partition)!;
        // A fetch may start before the seek takes effect: drop what lies before the start.
        const inRange = records.filter((r) => BigInt(r.offset) >= start && BigInt(r.offset) < end);
        if (inRange.length === 0) return;
        const r = await processor.process(topic, partition, inRange);
        result.records += inRange.length;
        result.inserted += r.inserted;
        result.failed += r.failed.length;
      },
      onHandled: (partition, next) => {
        if (BigInt(next) >= endOf.get(partition)!) {
          pending.delete(partition);
          if (pending.size === 0) finish();
        }
      },
    });
    await consumer.start();
    await done;
    if (o.rebuild) await o.store.transaction((tx) => recomputeRisk(tx, new Date()));
    return result;
  } finally {
    await consumer?.stop();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
