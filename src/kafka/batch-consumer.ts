import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../logger';

export interface ConsumedBatchRecord {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
}

export interface BatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** The topics this member reads; `handle` is told which one a batch is from. */
  topics: string[];
  logger: Logger;
  /**
   * Handles one batch of one partition. Offsets are committed only after it resolves; when it
   * throws, the consumer backs off, restarts and the batch is delivered again.
   */
  handle: (topic: string, partition: number, records: ConsumedBatchRecord[]) => Promise<void>;
  /** Where a group with no committed offsets starts. */
  fromBeginning: boolean;
  /** How long a fetch waits for data before returning empty, ms: the latency floor at low load. */
  maxWaitTimeInMs: number;
  /** Bytes per partition per fetch: the batch size at high load. */
  maxBytesPerPartition: number;
  /** Partitions whose batches are handled at the same time (the store serialises its writers anyway). */
  concurrency?: number;
  /** Start each partition of the first topic at this offset instead (replay). */
  seekTo?: Map<number, string>;
  /** After a batch was handled and its offsets resolved (committed with the next commit). */
  onHandled?: (partition: number, nextOffset: string) => void;
  /**
   * How often handled offsets are committed, ms. Committing after every batch would add a broker
   * round trip to every fetch cycle; a crash re-delivers at most this much, which the idempotent
   * handler absorbs. 0 commits after every batch.
   */
  commitIntervalMs?: number;
}

/**
 * A consumer-group member that hands whole batches to a handler and commits offsets only of
 * batches whose handler resolved: at-least-once, and with an idempotent handler, effectively
 * once. Commits go out every `commitIntervalMs` and when the consumer stops.
 */
export class BatchConsumer {
  private consumer: Consumer | undefined;
  private readonly log: Logger;

  constructor(private readonly options: BatchConsumerOptions) {
    this.log = options.logger.child({ component: 'consumer', group: options.groupId });
  }

  async start(): Promise<void> {
    const o = this.options;
    const consumer = o.kafka.consumer({
      groupId: o.groupId,
      maxWaitTimeInMs: o.maxWaitTimeInMs,
      minBytes: 1,
      maxBytes: Math.max(o.maxBytesPerPartition * 4, 16 * 1024 * 1024),
      maxBytesPerPartition: o.maxBytesPerPartition,
      sessionTimeout: 30_000,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 3_000,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: o.topics, fromBeginning: o.fromBeginning });
    const interval = o.commitIntervalMs ?? 500;
    await consumer.run({
      // Only offsets resolved after the handler resolved are ever committed.
      autoCommit: true,
      ...(interval > 0 ? { autoCommitInterval: interval } : {}),
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.concurrency ?? 1,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const records = batch.messages.map((m) => ({ key: m.key, value: m.value, offset: m.offset }));
        try {
          await o.handle(batch.topic, batch.partition, records);
        } catch (err) {
          this.log.warn({ err: (err as Error).message, partition: batch.partition, records: records.length }, 'batch failed; it will be delivered again');
          throw err;
        }
        // resolveOffset moves this consumer's fetch position and marks the offset committable.
        resolveOffset(batch.lastOffset());
        await commitOffsetsIfNecessary();
        o.onHandled?.(batch.partition, (BigInt(batch.lastOffset()) + 1n).toString());
        await heartbeat();
      },
    });
    if (o.seekTo) {
      for (const [partition, offset] of o.seekTo) consumer.seek({ topic: o.topics[0]!, partition, offset });
    }
    this.consumer = consumer;
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    await c?.disconnect();
  }
}
