import type { Kafka } from 'kafkajs';
import type { Logger } from '../logger';
import { ConsumerPositions, watchingConsumers } from './consumer-positions';
import { recordsBehind, type GroupOffsets } from './group-offsets';

/** How many records of one partition a group has yet to handle. */
export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/**
 * How far behind the consumer groups of this process are, per topic and partition, always
 * measured against the log end read now (give or take the moment `GroupOffsets` keeps an
 * answer), so a partition that caught up reads 0 and a consumer that is stuck falls behind.
 *
 * A group that commits (the processor, the fraud detector) is measured from what it committed:
 * its handlers commit a batch only once its work is done, so that is what is not handled yet,
 * whichever member of the group has the partition. The fan-out commits nothing and is measured
 * from its consumer's own position.
 */
export class ConsumerLag {
  private readonly committing = new Map<string, string[]>();
  private readonly positioned: ConsumerPositions[] = [];
  private readonly log: Logger;

  constructor(
    private readonly offsets: Pick<GroupOffsets, 'logRanges' | 'committed'>,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'consumer-lag' });
  }

  /** Measures `groupId` on `topics` from the offsets it commits. */
  watchCommitted(groupId: string, topics: string[]): void {
    this.committing.set(groupId, topics);
  }

  /**
   * `kafka` for a consumer of a group that commits nothing: each consumer created through it
   * is measured from its own position.
   */
  watchPositions(kafka: Kafka): Kafka {
    return watchingConsumers(kafka, (consumer, groupId) => {
      this.positioned.push(new ConsumerPositions(groupId, consumer, (topic) => this.offsets.logRanges(topic, true)));
    });
  }

  /**
   * Every watched group's lag on every partition it is known on. A group or topic whose
   * offsets the broker did not give in time is left out (and logged), never reported stale.
   */
  async read(): Promise<PartitionLag[]> {
    const parts = await Promise.allSettled([
      ...[...this.committing].flatMap(([group, topics]) => topics.map((topic) => this.committedLag(group, topic))),
      ...this.positioned.map((p) => this.positionLag(p)),
    ]);
    const out: PartitionLag[] = [];
    for (const p of parts) {
      if (p.status === 'fulfilled') out.push(...p.value);
      else this.log.debug({ err: (p.reason as Error).message }, 'consumer lag not read');
    }
    return out;
  }

  /**
   * Records of `topic` that `groupId` has not committed yet, summed over its partitions; null
   * when the broker did not say in time. Any group can be asked, watched here or not.
   */
  async backlog(groupId: string, topic: string): Promise<number | null> {
    try {
      return (await this.committedLag(groupId, topic)).reduce((n, p) => n + p.lag, 0);
    } catch (err) {
      this.log.debug({ err: (err as Error).message, group: groupId, topic }, 'backlog not read');
      return null;
    }
  }

  private async committedLag(group: string, topic: string): Promise<PartitionLag[]> {
    const [ranges, committed] = await Promise.all([this.offsets.logRanges(topic), this.offsets.committed(group, topic)]);
    return [...ranges].map(([partition, range]) => ({ group, topic, partition, lag: recordsBehind(committed.get(partition) ?? -1, range) }));
  }

  private async positionLag(consumer: ConsumerPositions): Promise<PartitionLag[]> {
    const known = consumer.positions().filter((p) => p.next !== undefined);
    const topics = [...new Set(known.map((p) => p.topic))];
    const ranges = new Map(await Promise.all(topics.map(async (t) => [t, await this.offsets.logRanges(t)] as const)));
    return known.flatMap((p) => {
      const range = ranges.get(p.topic)?.get(p.partition);
      return range ? [{ group: consumer.groupId, topic: p.topic, partition: p.partition, lag: recordsBehind(p.next!, range) }] : [];
    });
  }
}
