import type { Kafka, Producer } from 'kafkajs';
import { InfrastructureError } from '../errors';
import type { Logger } from '../logger';
import type { OutgoingRecord, Publisher, PublishOptions, RecordPosition } from '../domain/publishing';
import { codecUnavailable } from './codecs';
import { COMPRESSION_TYPES, type Compression } from './compression';
import { DEFAULT_MAX_BATCH_BYTES, splitIntoRequests } from './outgoing-record';
import { PartitionSelector } from './partition-selector';
import { produceBatch } from './produce-batch';
import { PublishDeadlines } from './publish-deadlines';

export { DEFAULT_MAX_BATCH_BYTES };

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
  /**
   * Codec of each produce request's record batches (`KAFKA_COMPRESSION`); none by default. Its
   * codec must be registered with KafkaJS, as `createKafka` does.
   */
  compression?: Compression;
  /** Partition count of a topic (from metadata): the publisher partitions records itself. */
  partitionsOf: (topic: string) => Promise<number>;
  logger: Logger;
  onBatch?: (records: number, seconds: number) => void;
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
export class BatchingPublisher implements Publisher {
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
  private readonly partitions = new PartitionSelector();
  /** Partition counts already looked up (the lookup is cached for good anyway): no await per publish. */
  private readonly counts = new Map<string, number>();
  /** Every publish not yet settled, for its deadline. */
  private readonly deadlines: PublishDeadlines<Pending>;
  private readonly log: Logger;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: PublisherOptions,
  ) {
    this.log = options.logger.child({ component: 'publisher' });
    this.deadlines = new PublishDeadlines<Pending>(options.timeoutMs, (p) =>
      this.settle(p, new InfrastructureError(`Kafka did not acknowledge within ${options.timeoutMs} ms`, true)),
    );
  }

  private createProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: this.options.retries, initialRetryTime: 100, maxRetryTime: 1_000, factor: 0.2, multiplier: 2 },
    });
  }

  /** @throws InfrastructureError (not retriable) when the codec of `compression` cannot load here. */
  async start(): Promise<void> {
    const unavailable = codecUnavailable(this.options.compression ?? 'none');
    if (unavailable !== undefined) throw new InfrastructureError(`KAFKA_COMPRESSION: ${unavailable}`, false);
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
    const partitions = records.map((r) => this.partitions.partitionFor(r, this.counts.get(r.topic)!));
    // Split what would not fit one produce request; the parts are queued, and so sent, in order.
    const parts = splitIntoRequests(records, partitions, this.options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES, this.options.maxBatchRecords);
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
      this.deadlines.track(pending);
      this.queue.push(pending);
      this.queued += records.length;
      this.queuedBytes += bytes;
      if (immediate) this.immediateQueued++;
      this.schedule();
    });
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
    try {
      const producer = await this.readyProducer();
      const positions = await produceBatch(producer, batch, COMPRESSION_TYPES[this.options.compression ?? 'none']);
      this.options.onBatch?.(batch.reduce((n, p) => n + p.records.length, 0), Number(process.hrtime.bigint() - started) / 1e9);
      for (const p of batch) {
        const pos = positions.get(p);
        if (pos === undefined) this.settle(p, new InfrastructureError('Kafka acknowledged the batch without every partition', true));
        else this.settle(p, undefined, pos);
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

  private settle(p: Pending, error?: Error, positions?: RecordPosition[]): void {
    if (p.settled) return;
    p.settled = true;
    this.deadlines.settled();
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
    this.deadlines.stop();
    await this.producer?.disconnect();
    this.producer = undefined;
  }
}
