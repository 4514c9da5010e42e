import type { Admin, Kafka } from 'kafkajs';
import { InfrastructureError } from '../errors';

/** Where a partition's log starts (`low`) and where the next record will be written (`high`). */
export interface LogRange {
  low: number;
  high: number;
}

/** A group's committed offset per partition of one topic; -1 where it has committed none. */
export type Committed = Map<number, number>;

export interface GroupOffsetsOptions {
  /** How long an answer is reused, ms: scrapes and dashboards in the same moment share one request. */
  ttlMs?: number;
  /** How long a read may take before it fails, ms: a scrape must not hang on a broker that is down. */
  timeoutMs?: number;
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/**
 * Log ends and committed offsets, read with an admin connection of its own (so a slow answer
 * never holds up the readiness check's) and kept for a moment, so however often lag is asked
 * for, the broker is asked at most once per topic and group in that time.
 */
export class GroupOffsets {
  private admin: Admin | undefined;
  private readonly ranges = new Map<string, Cached<Map<number, LogRange>>>();
  private readonly commits = new Map<string, Cached<Committed>>();
  private readonly ttlMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly kafka: Kafka,
    options: GroupOffsetsOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 1_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
  }

  /** @throws InfrastructureError (retriable) when the broker cannot be reached. */
  async start(): Promise<void> {
    // Lag is read again a moment later: retrying inside KafkaJS would only hold the caller.
    const admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 } });
    try {
      await admin.connect();
    } catch (err) {
      throw new InfrastructureError(`Kafka: cannot connect for offsets: ${(err as Error).message}`, true, { cause: err });
    }
    this.admin = admin;
  }

  /**
   * Each partition's log range. `fresh` skips what is kept: a consumer that just looked up the
   * live end must be compared with an answer from after that.
   * @throws InfrastructureError when the broker does not answer in time.
   */
  logRanges(topic: string, fresh = false): Promise<Map<number, LogRange>> {
    return this.kept(this.ranges, topic, fresh, async (admin) => {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
    });
  }

  /**
   * The offsets `groupId` committed on each partition of `topic`.
   * @throws InfrastructureError when the broker does not answer in time.
   */
  committed(groupId: string, topic: string): Promise<Committed> {
    return this.kept(this.commits, `${groupId}\u0000${topic}`, false, async (admin) => {
      const [answer] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map((answer?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    });
  }

  async stop(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    this.ranges.clear();
    this.commits.clear();
    await admin?.disconnect();
  }

  private kept<T>(cache: Map<string, Cached<T>>, key: string, fresh: boolean, read: (admin: Admin) => Promise<T>): Promise<T> {
    const now = Date.now();
    const known = cache.get(key);
    if (!fresh && known && now - known.at < this.ttlMs) return known.value;
    const admin = this.admin;
    if (!admin) return Promise.reject(new InfrastructureError('Kafka offsets are not started', false));
    const value = this.bounded(read(admin));
    const entry = { at: now, value };
    cache.set(key, entry);
    // A failure is not kept: the next caller asks again.
    value.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
    return value;
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new InfrastructureError(`Kafka: no offsets within ${this.timeoutMs} ms`, true)), this.timeoutMs);
    });
    work.catch(() => undefined); // observed through the race; a late failure is of no one's interest
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

/**
 * Records of `range` a reader at `position` has yet to read. A position of -1 (nothing
 * committed) or before the log start reads from the start, as the groups that commit do
 * (they start from the beginning); a position past the end (a log end read a moment before
 * the position) is no lag.
 */
export function recordsBehind(position: number, range: LogRange): number {
  return Math.max(0, range.high - Math.max(position, range.low));
}
