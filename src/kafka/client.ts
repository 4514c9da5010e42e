import type { Admin, Kafka, LogEntry, logLevel } from 'kafkajs';
import { InfrastructureError } from '../errors';
import type { Logger } from '../logger';
import { registerCodecs } from './codecs';
import { installKafkaPatches, skippedPatches, type InstallKafkaPatchesOptions, type KafkaPatchOutcome } from './patches';
import { kafkajs } from './runtime';
import type { TopicSpec } from './topics';

// KafkaJS stays behind src/kafka: nothing outside this folder imports it (its types aside), and
// nothing here loads it before `createKafka` has installed the changes of `patches.ts`.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Milliseconds to wait for a TCP connection to a broker. */
  connectionTimeout?: number;
  requestTimeout?: number;
  /** Retries of a failed request inside KafkaJS before the caller sees the error. */
  retries?: number;
  /**
   * Refuse to create the client when a change to KafkaJS (docs/kafka-patches.md) did not
   * install: what a production start passes, so it fails at start-up rather than running with
   * KafkaJS's shipped encoding or idle timers unnoticed. Otherwise a skipped change is logged and
   * KafkaJS works as shipped for what it covers.
   */
  requirePatches?: boolean;
  /** Passed to `installKafkaPatches` (tests make a change's target look wrong with it). */
  patches?: InstallKafkaPatchesOptions;
}

/** KafkaJS's log levels (its `logLevel` enum: plain numbers, so no KafkaJS load for them). */
export const KafkaLogLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const satisfies Record<keyof typeof logLevel, number>;

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

const reports = new WeakMap<Kafka, readonly KafkaPatchOutcome[]>();

/**
 * What installing the changes to KafkaJS did when `kafka` was created by `createKafka` (for the
 * `kafka_patch_installed` gauge: `registerKafkaPatchMetric`).
 */
export function kafkaPatchReport(kafka: Kafka): readonly KafkaPatchOutcome[] {
  return reports.get(kafka) ?? [];
}

/**
 * Installs the changes to KafkaJS, logs one line naming each as installed or skipped, and throws
 * when `requirePatches` is set and one is not in place.
 */
function installReported(options: KafkaOptions): readonly KafkaPatchOutcome[] {
  const report = installKafkaPatches(options.patches);
  const missing = skippedPatches(report);
  const summary = report.map((o) => (o.status === 'installed' ? `${o.patch} installed` : `${o.patch} skipped (${o.reason})`)).join(', ');
  const fields = { component: 'kafka', patches: Object.fromEntries(report.map((o) => [o.patch, o.status])) };
  if (missing.length === 0) options.logger.info(fields, `KafkaJS patches: ${summary}`);
  else options.logger.warn(fields, `KafkaJS patches: ${summary}`);
  if (options.requirePatches && missing.length > 0) {
    throw new InfrastructureError(
      `KafkaJS patches not installed: ${missing.map((o) => `${o.patch} (${o.reason})`).join(', ')}; see docs/kafka-patches.md`,
      false,
    );
  }
  return report;
}

/**
 * A KafkaJS client whose log lines go through pino (as `component: kafkajs`), created once the
 * changes to KafkaJS are installed (see `installReported`) and the codecs KafkaJS does not ship
 * are registered with it (`registerCodecs`: its producers can compress with any
 * `KAFKA_COMPRESSION`, its consumers read them all); `kafkaPatchReport` tells what the changes did.
 * @throws InfrastructureError (not retriable) with `requirePatches`, naming each change not installed.
 */
export function createKafka(options: KafkaOptions): Kafka {
  const report = installReported(options);
  const runtime = kafkajs();
  registerCodecs(runtime);
  const { Kafka } = runtime;
  const log = options.logger.child({ component: 'kafkajs' });
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeout ?? 3_000,
    requestTimeout: options.requestTimeout ?? 10_000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: KafkaLogLevel.WARN as logLevel,
    logCreator:
      () =>
      ({ level, label, log: entry }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...rest } = entry;
        // The broker's transient "coordinator loading" answers are retried inside KafkaJS; keep them at debug.
        const lvl = /coordinator (is loading|is not available)|not the correct coordinator/i.test(String(rest.error)) || /Limiting retries for the idempotent producer/.test(message)
          ? 'debug'
          : (LEVELS[level] ?? 'info');
        log[lvl]({ ...rest, kafkaLevel: label }, message);
      },
  });
  reports.set(kafka, report);
  return kafka;
}

/**
 * Deletes the topics and consumer groups whose names `ours` accepts (a test or bench run's own),
 * so a long-lived broker does not keep every run's; a group that still has members is left for
 * the broker to expire. Says how many of each were found and deleted.
 */
export async function deleteTopicsAndGroups(kafka: Kafka, ours: (name: string) => boolean): Promise<{ topics: number; groups: number; groupsFound: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter(ours);
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter(ours);
    let deleted = 0;
    if (groups.length > 0) {
      try {
        await admin.deleteGroups(groups);
        deleted = groups.length;
      } catch (err) {
        // KafkaJS names the groups it could not delete (those with members).
        deleted = groups.length - ((err as { groups?: unknown[] }).groups?.length ?? groups.length);
      }
    }
    return { topics: topics.length, groups: deleted, groupsFound: groups.length };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Admin operations the gateway needs: creating its topics and telling whether the cluster
 * answers. Holds one admin connection for readiness checks.
 */
export class KafkaAdmin {
  private admin: Admin | undefined;

  constructor(private readonly kafka: Kafka) {}

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
    } catch (err) {
      throw new InfrastructureError(`Kafka: cannot connect: ${(err as Error).message}`, true, { cause: err });
    }
    this.admin = admin;
  }

  private get client(): Admin {
    if (!this.admin) throw new InfrastructureError('Kafka admin is not started', false);
    return this.admin;
  }

  /**
   * Creates the topics that do not exist yet with their partition counts and waits for leaders.
   * Existing topics are left as they are (a smaller partition count is logged by the caller).
   * Returns the names created now.
   */
  async ensureTopics(specs: TopicSpec[]): Promise<string[]> {
    const existing = new Set(await this.client.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length === 0) return [];
    try {
      await this.client.createTopics({
        waitForLeaders: false,
        topics: missing.map((s) => ({ topic: s.name, numPartitions: s.partitions, replicationFactor: -1 })),
      });
    } catch (err) {
      // Another instance may have created them between our list and create.
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
    // Created here or by another instance just now: either way, not usable before it has leaders.
    await this.waitForLeaders(missing.map((s) => s.name), 30_000);
    return missing.map((s) => s.name);
  }

  /**
   * Resolves once metadata names a leader for every partition of `topics`. A KRaft broker
   * answers metadata from a cache the controller updates asynchronously, so right after a topic
   * is created it can still say "does not host this topic-partition" (which KafkaJS's own
   * `waitForLeaders` does not retry) or name no leader: both are waited out here.
   * @throws InfrastructureError when that does not happen within `timeoutMs`.
   */
  async waitForLeaders(topics: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no leaders yet';
    for (;;) {
      try {
        const meta = await this.client.fetchTopicMetadata({ topics });
        const led = new Set(meta.topics.filter((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)).map((t) => t.name));
        if (topics.every((t) => led.has(t))) return;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new InfrastructureError(`Kafka: topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms (${last})`, true);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private readonly partitionCache = new Map<string, Promise<number>>();

  /**
   * Partition count of one topic, from metadata once and then from memory. Concurrent callers
   * share one metadata request; a failed lookup is not remembered.
   */
  partitionCount(topic: string): Promise<number> {
    let known = this.partitionCache.get(topic);
    if (!known) {
      known = this.partitionCounts([topic]).then((counts) => {
        const n = counts.get(topic);
        if (n === undefined || n === 0) throw new InfrastructureError(`Kafka: topic ${topic} does not exist`, false);
        return n;
      });
      known.catch(() => this.partitionCache.delete(topic));
      this.partitionCache.set(topic, known);
    }
    return known;
  }

  /** Partition count of each named topic that exists. */
  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const meta = await this.client.fetchTopicMetadata({ topics });
    return new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  }

  /** Resolves when a broker answers a metadata request within `timeoutMs`. */
  async ping(timeoutMs = 2_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new InfrastructureError('Kafka: no answer', true)), timeoutMs);
    });
    try {
      await Promise.race([this.client.describeCluster(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect();
  }
}

/** Whether any of `brokers` answers a metadata request within `timeoutMs` (no retries, no logs). */
export async function brokersAnswer(brokers: string[], timeoutMs = 2_000): Promise<boolean> {
  const { Kafka } = kafkajs();
  const kafka = new Kafka({
    clientId: 'probe',
    brokers,
    logLevel: KafkaLogLevel.NOTHING as logLevel,
    connectionTimeout: Math.min(timeoutMs, 2_000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      admin.connect().then(() => admin.fetchTopicMetadata({ topics: [] })),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
