import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../logger';

export interface FanoutConsumerOptions {
  kafka: Kafka;
  /** A group of this instance's own: every instance sees every record. */
  groupId: string;
  topics: string[];
  logger: Logger;
  maxWaitTimeInMs: number;
  /** Bytes a fetch waits for, up to maxWaitTimeInMs (default 1: return as soon as there is any). */
  minBytes?: number;
  /** Receives each record's topic and value, in partition order. */
  onRecord: (topic: string, value: Buffer) => void;
}

/**
 * Reads topics from their live end for fan-out to subscribers. Nothing is committed: a
 * restarted instance starts at the live end again (its subscribers resume from the store with
 * their cursors), and its group is deleted when it stops.
 */
export class FanoutConsumer {
  private consumer: Consumer | undefined;
  private readonly log: Logger;

  constructor(private readonly o: FanoutConsumerOptions) {
    this.log = o.logger.child({ component: 'fanout', group: o.groupId });
  }

  /**
   * Resolves once the consumer has joined its group and completed a fetch: only then has it
   * looked up where the live end is (KafkaJS does that in its first fetch after joining, not
   * when it joins), so every record written after `start` resolves is delivered.
   */
  async start(): Promise<void> {
    const consumer = this.o.kafka.consumer({
      groupId: this.o.groupId,
      maxWaitTimeInMs: this.o.maxWaitTimeInMs,
      minBytes: this.o.minBytes ?? 1,
      // A broker restart leaves the member it knew in the group; the rejoin waits until that
      // member's session expires, and so does live fan-out. The group has this one member, so
      // a short session costs nothing (the broker's minimum is 6 s).
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 1_000,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.o.topics, fromBeginning: false });
    const joined = new Promise<void>((resolve) => {
      const removeJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
        removeJoin();
        const removeFetch = consumer.on(consumer.events.FETCH, () => {
          removeFetch();
          resolve();
        });
      });
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (m.value) {
            try {
              this.o.onRecord(batch.topic, m.value);
            } catch (err) {
              this.log.warn({ err: (err as Error).message, topic: batch.topic, offset: m.offset }, 'fan-out record skipped');
            }
          }
        }
      },
    });
    this.consumer = consumer;
    await joined;
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    if (!c) return;
    await c.disconnect();
    const admin = this.o.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.o.groupId]);
    } catch {
      // The group expires on its own.
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
