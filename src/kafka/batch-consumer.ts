import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../logger';

export interface ConsumedBatchRecord {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
}

/**
 * What a handler may return: work that goes on after it (publishing what a batch produced)
 * and must succeed before the batch counts as handled. The consumer fetches on meanwhile.
 */
export interface Deferred {
  settled: Promise<void>;
}

export interface BatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** The topics this member reads; `handle` is told which one a batch is from. */
  topics: string[];
  logger: Logger;
  /**
   * Handles one batch of one partition. Its offsets are committed only after it resolves (and
   * after the `settled` of what it returns resolves). When it throws, the consumer backs off,
   * restarts from the committed offsets, and the batch is delivered again; when `settled`
   * rejects, the partition goes back to that batch and everything after it is delivered again.
   */
  handle: (topic: string, partition: number, records: ConsumedBatchRecord[]) => Promise<void | Deferred>;
  /** Where a group with no committed offsets starts. */
  fromBeginning: boolean;
  /** How long a fetch waits for data before returning empty, ms: the latency floor at low load. */
  maxWaitTimeInMs: number;
  /** Bytes a fetch waits for, up to maxWaitTimeInMs (default 1: return as soon as there is any). */
  minBytes?: number;
  /** Bytes per partition per fetch: the batch size at high load. */
  maxBytesPerPartition: number;
  /** Partitions whose batches are handled at the same time (the store serialises its writers anyway). */
  concurrency?: number;
  /** Start each partition of the first topic at this offset instead (replay). */
  seekTo?: Map<number, string>;
  /** After a batch was handled, its deferred work included (committed with the next commit). */
  onHandled?: (partition: number, nextOffset: string) => void;
  /**
   * How often handled offsets are committed, ms. Committing after every batch would add a broker
   * round trip to every fetch cycle; a crash re-delivers at most this much, which the idempotent
   * handler absorbs. 0 commits as soon as a batch is handled.
   */
  commitIntervalMs?: number;
}

const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

interface Position {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * A consumer-group member that hands whole batches to a handler and commits offsets only of
 * batches that were handled: at-least-once, and with an idempotent handler, effectively once.
 *
 * A handler may hand back deferred work (a publish), so the next batch is fetched and handled
 * while the previous one's work completes. KafkaJS fetches from the offsets it was told are
 * resolved, so this class resolves them when the handler returns and commits them itself, per
 * partition in order, only once the deferred work succeeded. When deferred work fails, the
 * partition is sent back to the first offset of that batch (later batches of it were handled
 * too, and are handled again: the handler is idempotent) and nothing past it is committed.
 */
export class BatchConsumer {
  private consumer: Consumer | undefined;
  private readonly log: Logger;
  /** Per partition: the deferred work of its batches, in order. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Per partition: bumped when it is sent back, so work of before no longer commits. */
  private readonly generations = new Map<string, number>();
  /** Bumped when the consumer restarts from committed offsets after a handler threw. */
  private epoch = 0;
  private readonly committable = new Map<string, Position>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  /** Per partition: deferred failures in a row, for the backoff before it is fetched again. */
  private readonly failures = new Map<string, number>();
  private stopping = false;

  constructor(private readonly options: BatchConsumerOptions) {
    this.log = options.logger.child({ component: 'consumer', group: options.groupId });
  }

  async start(): Promise<void> {
    const o = this.options;
    const consumer = o.kafka.consumer({
      groupId: o.groupId,
      maxWaitTimeInMs: o.maxWaitTimeInMs,
      minBytes: o.minBytes ?? 1,
      maxBytes: Math.max(o.maxBytesPerPartition * 4, 16 * 1024 * 1024),
      maxBytesPerPartition: o.maxBytesPerPartition,
      // After a broker restart the rejoin waits until the member the broker remembers (this
      // consumer under its old id) has timed out, so processing stalls for one session: keep it
      // short. A handler returns once its batch is parsed and handed to deferred work (a group
      // takes about 2 s at full speed), and every handled batch heartbeats.
      sessionTimeout: 10_000,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 1_000,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: o.topics, fromBeginning: o.fromBeginning });
    const interval = o.commitIntervalMs ?? 500;
    if (interval > 0) {
      this.commitTimer = setInterval(() => void this.commit(), interval);
      this.commitTimer.unref();
    }
    await consumer.run({
      // Offsets are committed here, only of handled batches (see commit()).
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.concurrency ?? 1,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (!isRunning() || isStale() || this.stopping || batch.messages.length === 0) return;
        const key = partitionKey(batch.topic, batch.partition);
        const generation = this.generationOf(key);
        const records: ConsumedBatchRecord[] = batch.messages; // KafkaJS's messages have key, value and offset
        let outcome: void | Deferred;
        try {
          outcome = await o.handle(batch.topic, batch.partition, records);
        } catch (err) {
          this.log.warn({ err: (err as Error).message, partition: batch.partition, records: records.length }, 'batch failed; it will be delivered again');
          // The restart reads the committed offsets: work begun before must not commit past them.
          this.epoch++;
          this.chains.clear();
          throw err;
        }
        // Sent back while this batch was handled: it is fetched again, so it must not move on.
        if (this.generationOf(key) !== generation) return;
        // Resolving moves the fetch position; committing waits for the deferred work.
        resolveOffset(batch.lastOffset());
        this.follow(key, generation, { topic: batch.topic, partition: batch.partition, offset: records[0]!.offset }, (BigInt(batch.lastOffset()) + 1n).toString(), outcome?.settled);
        await heartbeat();
      },
    });
    if (o.seekTo) {
      for (const [partition, offset] of o.seekTo) consumer.seek({ topic: o.topics[0]!, partition, offset });
    }
    this.consumer = consumer;
  }

  private generationOf(key: string): string {
    return `${this.epoch}:${this.generations.get(key) ?? 0}`;
  }

  /** Chains a handled batch's deferred work behind its partition's earlier batches. */
  private follow(key: string, generation: string, first: Position, next: string, settled: Promise<void> | undefined): void {
    const link = (this.chains.get(key) ?? Promise.resolve()).then(() => settled);
    this.chains.set(key, link);
    link.then(
      () => {
        if (this.generationOf(key) !== generation) return;
        this.failures.delete(key);
        this.committable.set(key, { topic: first.topic, partition: first.partition, offset: next });
        this.options.onHandled?.(first.partition, next);
        if ((this.options.commitIntervalMs ?? 500) === 0) void this.commit();
      },
      (err: unknown) => {
        if (this.generationOf(key) !== generation) return; // a later batch of a partition already sent back
        this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
        this.chains.delete(key);
        // Back off before the partition is fetched again, as KafkaJS does after a handler throws:
        // the store or the broker may be down, and retrying at once would spin.
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        const delay = Math.min(5_000, 200 * 2 ** (failures - 1));
        this.log.warn({ err: (err as Error).message, partition: first.partition, offset: first.offset, retryInMs: delay }, 'deferred work failed; the partition goes back to that batch');
        const partitions = [{ topic: first.topic, partitions: [first.partition] }];
        try {
          this.consumer?.pause(partitions);
          this.consumer?.seek(first);
        } catch {
          // Not running (restarting): it starts from the committed offsets, which are before this batch.
        }
        setTimeout(() => {
          try {
            this.consumer?.resume(partitions);
          } catch {
            // stopped meanwhile
          }
        }, delay).unref();
      },
    );
  }

  /** Commits the offsets of handled batches, one commit at a time. */
  private commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const consumer = this.consumer;
      if (!consumer || this.committable.size === 0) return;
      const positions = [...this.committable.values()];
      this.committable.clear();
      try {
        await consumer.commitOffsets(positions);
      } catch (err) {
        // After a rebalance the partition may be someone else's; they start from the last commit.
        this.log.debug({ err: (err as Error).message }, 'offset commit failed');
        for (const p of positions) {
          const key = partitionKey(p.topic, p.partition);
          if (!this.committable.has(key)) this.committable.set(key, p);
        }
      }
    });
    return this.committing;
  }

  /**
   * Stops taking batches, waits for the deferred work of those already handled (each publish is
   * bounded by its own timeout), commits what was handled, and leaves the group.
   */
  async stop(): Promise<void> {
    const c = this.consumer;
    if (!c) return;
    this.stopping = true;
    if (this.commitTimer) clearInterval(this.commitTimer);
    await Promise.allSettled([...this.chains.values()]);
    await this.commit();
    this.consumer = undefined;
    await c.disconnect();
  }
}
