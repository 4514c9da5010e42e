import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { InfrastructureError } from '../errors';
import type { Logger } from '../logger';
import { kafkajs } from './runtime';

/** One record to publish. */
export interface OutgoingRecord {
  topic: string;
  /** The partitioning key; null spreads records over partitions. */
  key: string | null;
  value: string | Buffer;
  headers: Record<string, string>;
}

/** Where a record was durably written. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface PublisherOptions {
  /** How long a send waits for company before its batch goes out, ms (0: next tick). */
  lingerMs: number;
  /** Records per produce request at most; a full batch goes at once. */
  maxBatchRecords: number;
  /**
   * Bytes of keys and values per produce request at most. Brokers refuse a record batch over
   * `message.max.bytes` (1 MiB by default), and KafkaJS puts a partition's records of a request
   * in one batch; larger publishes are split into several requests, in order.
   */
  maxBatchBytes?: number;
  /** Bound on one publish from enqueue to acknowledgement, ms; past it the caller gets an error. */
  timeoutMs: number;
  /** Retries of a failed produce request inside KafkaJS (exponential backoff). */
  retries: number;
  /** Partition count of a topic (from metadata): the publisher partitions records itself. */
  partitionsOf: (topic: string) => Promise<number>;
  logger: Logger;
  onBatch?: (records: number, seconds: number) => void;
}

/** Under the broker's default message.max.bytes (1 MiB), with room for record overhead. */
export const DEFAULT_MAX_BATCH_BYTES = 900 * 1024;

function recordBytes(r: OutgoingRecord): number {
  let n = 64 + (r.key === null ? 0 : Buffer.byteLength(r.key)) + (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length);
  for (const [k, v] of Object.entries(r.headers)) n += k.length + Buffer.byteLength(v) + 8;
  return n;
}

interface Pending {
  records: OutgoingRecord[];
  bytes: number;
  partitions: number[];
  resolve: (positions: RecordPosition[]) => void;
  reject: (err: Error) => void;
  settled: boolean;
  /** performance.now() when it was queued; `timeoutMs` later the caller gets a timeout error. */
  queuedAt: number;
  /** Already a batch of its own: it goes without lingering (and takes what is queued along). */
  immediate: boolean;
}

export interface PublishOptions {
  /**
   * The records are already a batch (the processor's group): they go at the end of this turn
   * of the event loop, or as soon as the request in flight returns, without waiting `lingerMs`
   * for company.
   */
  immediate?: boolean;
}

/**
 * Publishes records durably (`acks: -1`, idempotent producer) and gathers concurrent publishes
 * into one `sendBatch`: KafkaJS has no linger of its own, and the idempotent producer allows one
 * request in flight, so without this every single-event mutation would pay a full round trip
 * in turn. While one batch is in flight the next one fills; it goes when the first returns and
 * its oldest record has waited `lingerMs`, or as soon as it holds `maxBatchRecords`.
 *
 * Records are partitioned here with KafkaJS's default (Java-compatible murmur2) partitioner, so
 * each record's offset is known from its partition's base offset in the response.
 */
export class BatchingPublisher {
  private producer: Producer | undefined;
  private queue: Pending[] = [];
  private queued = 0;
  private queuedBytes = 0;
  private inFlight = false;
  /** Queued publishes that asked not to linger. */
  private immediateQueued = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private lingerTurn: NodeJS.Immediate | undefined;
  private needsReset = false;
  private stopped = false;
  private idle: Array<() => void> = [];
  private readonly partitioner = kafkajs().Partitioners.DefaultPartitioner();
  /** Partition counts already looked up (the lookup is cached for good anyway): no await per publish. */
  private readonly counts = new Map<string, number>();
  /**
   * Every publish not yet settled, in the order queued, so in deadline order (they all wait
   * `timeoutMs`); settled ones are dropped from the front as they settle. One timer for the
   * oldest instead of one per publish, which showed in single-event recording.
   */
  private readonly deadlines: Array<Pending | undefined> = [];
  private deadlineHead = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: PublisherOptions,
  ) {
    this.log = options.logger.child({ component: 'publisher' });
  }

  private createProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: this.options.retries, initialRetryTime: 100, maxRetryTime: 1_000, factor: 0.2, multiplier: 2 },
    });
  }

  async start(): Promise<void> {
    const producer = this.createProducer();
    await producer.connect();
    this.producer = producer;
  }

  /**
   * Publishes `records` and resolves with each one's position once the broker has it on every
   * in-sync replica.
   * @throws InfrastructureError (retriable) when Kafka does not acknowledge within `timeoutMs`
   *   or fails after its retries; the records must then be treated as not recorded.
   */
  async publish(records: OutgoingRecord[], options: PublishOptions = {}): Promise<RecordPosition[]> {
    if (this.stopped) throw new InfrastructureError('Kafka publisher is stopped', false);
    if (records.length === 0) return [];
    for (const r of records) if (!this.counts.has(r.topic)) this.counts.set(r.topic, await this.options.partitionsOf(r.topic));
    const partitions = records.map((r) => this.partitionFor(r, this.counts.get(r.topic)!));
    // Split what would not fit one produce request; the parts are queued, and so sent, in order.
    const budget = this.options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    const parts: Array<{ records: OutgoingRecord[]; partitions: number[]; bytes: number }> = [];
    let current = { records: [] as OutgoingRecord[], partitions: [] as number[], bytes: 0 };
    records.forEach((r, i) => {
      const size = recordBytes(r);
      if (current.records.length > 0 && (current.bytes + size > budget || current.records.length >= this.options.maxBatchRecords)) {
        parts.push(current);
        current = { records: [], partitions: [], bytes: 0 };
      }
      current.records.push(r);
      current.partitions.push(partitions[i]!);
      current.bytes += size;
    });
    parts.push(current);
    const results = await Promise.all(parts.map((part) => this.enqueue(part.records, part.partitions, part.bytes, options.immediate === true)));
    return results.flat();
  }

  private enqueue(records: OutgoingRecord[], partitions: number[], bytes: number, immediate: boolean): Promise<RecordPosition[]> {
    return new Promise<RecordPosition[]>((resolve, reject) => {
      const pending: Pending = {
        records,
        bytes,
        partitions,
        resolve,
        reject,
        settled: false,
        queuedAt: performance.now(),
        immediate,
      };
      this.deadlines.push(pending);
      if (!this.deadlineTimer) this.armDeadline();
      this.queue.push(pending);
      this.queued += records.length;
      this.queuedBytes += bytes;
      if (immediate) this.immediateQueued++;
      this.schedule();
    });
  }

  /** KafkaJS's partitioner wants partition metadata; only the count matters to it. */
  private readonly metadataFor = new Map<number, Array<{ partitionId: number; leader: number; replicas: number[]; isr: number[]; partitionErrorCode: number; offlineReplicas: number[] }>>();

  /** Partition of each recently seen key, per partition count: users come back, and hashing each time shows in profiles. */
  private readonly keyPartitions = new Map<number, Map<string, number>>();

  private partitionFor(record: OutgoingRecord, count: number): number {
    let known = this.keyPartitions.get(count);
    if (!known) this.keyPartitions.set(count, (known = new Map()));
    if (record.key !== null) {
      const p = known.get(record.key);
      if (p !== undefined) return p;
    }
    let partitionMetadata = this.metadataFor.get(count);
    if (!partitionMetadata) {
      partitionMetadata = Array.from({ length: count }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0, offlineReplicas: [] }));
      this.metadataFor.set(count, partitionMetadata);
    }
    const partition = this.partitioner({ topic: record.topic, partitionMetadata, message: { key: record.key, value: null } });
    if (record.key !== null) {
      if (known.size >= 100_000) known.clear();
      known.set(record.key, partition);
    }
    return partition;
  }

  private schedule(): void {
    if (this.inFlight) return;
    if (this.queued >= this.options.maxBatchRecords || this.queuedBytes >= (this.options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES)) {
      this.flush();
      return;
    }
    if (this.lingerTurn || (this.lingerTimer && this.immediateQueued === 0)) return;
    // A publish that is a batch already does not wait for a linger timer set before it.
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    // Linger counts from the oldest queued record (as Kafka's linger.ms does): records that
    // queued while a request was in flight have waited already. What is due goes at the end of
    // this turn of the event loop, with whatever else this turn queues (a 0 ms timer would wait 1 ms).
    const left = this.immediateQueued > 0 ? 0 : this.options.lingerMs - (performance.now() - this.queue[0]!.queuedAt);
    if (left <= 0) {
      this.lingerTurn = setImmediate(() => {
        this.lingerTurn = undefined;
        this.flush();
      });
    } else {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.flush();
      }, left);
    }
  }

  private flush(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    if (this.lingerTurn) {
      clearImmediate(this.lingerTurn);
      this.lingerTurn = undefined;
    }
    if (this.inFlight) return;
    const batch: Pending[] = [];
    let count = 0;
    let bytes = 0;
    const budget = this.options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    while (
      this.queue.length > 0 &&
      (count === 0 || (count + this.queue[0]!.records.length <= this.options.maxBatchRecords && bytes + this.queue[0]!.bytes <= budget))
    ) {
      const p = this.queue.shift()!;
      this.queued -= p.records.length;
      this.queuedBytes -= p.bytes;
      if (p.immediate) this.immediateQueued--;
      if (p.settled) continue; // timed out while waiting: never send it
      batch.push(p);
      count += p.records.length;
      bytes += p.bytes;
    }
    if (batch.length === 0) {
      this.notifyIdle();
      return;
    }
    this.inFlight = true;
    void this.send(batch).finally(() => {
      this.inFlight = false;
      if (this.queue.length > 0) this.schedule();
      else this.notifyIdle();
    });
  }

  private async send(batch: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    // Per topic and partition, the records in the order their callers queued them.
    const byTopic = new Map<string, Map<number, Array<{ pending: Pending; index: number }>>>();
    const topicMessages = new Map<string, Message[]>();
    for (const pending of batch) {
      pending.records.forEach((r, index) => {
        const partition = pending.partitions[index]!;
        let parts = byTopic.get(r.topic);
        if (!parts) byTopic.set(r.topic, (parts = new Map()));
        let slot = parts.get(partition);
        if (!slot) parts.set(partition, (slot = []));
        slot.push({ pending, index });
      });
    }
    for (const [topic, parts] of byTopic) {
      const messages: Message[] = [];
      for (const [partition, slot] of parts) {
        for (const { pending, index } of slot) {
          const r = pending.records[index]!;
          messages.push({ key: r.key, value: r.value, headers: r.headers, partition });
        }
      }
      topicMessages.set(topic, messages);
    }
    try {
      const producer = await this.readyProducer();
      const request: TopicMessages[] = [...topicMessages].map(([topic, messages]) => ({ topic, messages }));
      const results = await producer.sendBatch({ acks: -1, topicMessages: request });
      const positions = new Map<Pending, RecordPosition[]>(batch.map((p) => [p, new Array(p.records.length)]));
      for (const result of results) {
        const slot = byTopic.get(result.topicName)?.get(result.partition);
        if (!slot) continue;
        const text = result.baseOffset ?? '0';
        // Offsets fit a double exactly for 2^53 records a partition; past that, BigInt.
        const small = Number(text);
        const base = Number.isSafeInteger(small + slot.length) ? small : undefined;
        const big = base === undefined ? BigInt(text) : 0n;
        slot.forEach(({ pending, index }, i) => {
          const offset = base !== undefined ? String(base + i) : String(big + BigInt(i));
          positions.get(pending)![index] = { topic: result.topicName, partition: result.partition, offset };
        });
      }
      this.options.onBatch?.(batch.reduce((n, p) => n + p.records.length, 0), Number(process.hrtime.bigint() - started) / 1e9);
      for (const p of batch) {
        const pos = positions.get(p)!;
        if (pos.some((x) => x === undefined)) {
          this.settle(p, new InfrastructureError('Kafka acknowledged the batch without every partition', true));
        } else {
          this.settle(p, undefined, pos);
        }
      }
    } catch (err) {
      // After a failed request the idempotent producer's sequence state is uncertain: start a new one.
      this.needsReset = true;
      this.log.warn({ err: (err as Error).message, records: batch.length }, 'publish failed');
      const error = new InfrastructureError(`Kafka publish failed: ${(err as Error).message}`, true, { cause: err });
      for (const p of batch) this.settle(p, error);
    }
  }

  private async readyProducer(): Promise<Producer> {
    if (!this.producer || this.needsReset) {
      const old = this.producer;
      this.producer = undefined;
      await old?.disconnect().catch(() => undefined);
      const fresh = this.createProducer();
      await fresh.connect();
      this.producer = fresh;
      this.needsReset = false;
    }
    return this.producer;
  }

  /** Times out what is past its deadline, then sets the timer for the oldest publish still open. */
  private armDeadline(): void {
    const now = performance.now();
    this.deadlineTimer = undefined;
    const timeout = this.options.timeoutMs;
    for (let head = this.deadlines[this.deadlineHead]; head && head.queuedAt + timeout <= now; head = this.deadlines[this.deadlineHead]) {
      this.settle(head, new InfrastructureError(`Kafka did not acknowledge within ${timeout} ms`, true));
    }
    const oldest = this.deadlines[this.deadlineHead];
    if (!oldest) return;
    this.deadlineTimer = setTimeout(() => this.armDeadline(), Math.max(1, oldest.queuedAt + timeout - now));
    this.deadlineTimer.unref();
  }

  /** Drops settled publishes from the front of `deadlines` (they settle mostly in order). */
  private dropSettled(): void {
    const list = this.deadlines;
    while (this.deadlineHead < list.length && list[this.deadlineHead]!.settled) list[this.deadlineHead++] = undefined;
    if (this.deadlineHead === list.length) {
      list.length = 0;
      this.deadlineHead = 0;
    } else if (this.deadlineHead > 1024 && this.deadlineHead * 2 > list.length) {
      list.splice(0, this.deadlineHead);
      this.deadlineHead = 0;
    }
  }

  private settle(p: Pending, error?: Error, positions?: RecordPosition[]): void {
    if (p.settled) return;
    p.settled = true;
    this.dropSettled();
    if (error) p.reject(error);
    else p.resolve(positions!);
  }

  private notifyIdle(): void {
    for (const f of this.idle.splice(0)) f();
  }

  /** Sends what is queued, waits for it, then disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.queue.length > 0 || this.inFlight) {
      await new Promise<void>((resolve) => {
        this.idle.push(resolve);
        this.flush();
      });
    }
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    await this.producer?.disconnect();
    this.producer = undefined;
  }
}
