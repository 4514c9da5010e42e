import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import type { LogRange } from './group-offsets';

/** Where a consumer stands on one partition it is assigned: the next offset it will read. */
export interface PartitionPosition {
  topic: string;
  partition: number;
  /** Undefined until known: it has handled no batch there and its start is not read yet. */
  next: number | undefined;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * The positions of one consumer of a group that commits nothing (the fan-out), as its own
 * events tell them: the partitions it was assigned when it last joined, and after each batch it
 * handled, the offset after that batch's last. KafkaJS emits nothing for a fetch that found a
 * partition empty, so a partition that has caught up keeps the position of its last batch,
 * which is where the log ends until something new is written there.
 */
export class ConsumerPositions {
  private assigned: Array<{ topic: string; partition: number }> = [];
  private readonly next = new Map<string, number>();
  /** Set by a join, cleared by the fetch after it: the start of a join's partitions is still to be read. */
  private joined = false;

  constructor(
    readonly groupId: string,
    consumer: Consumer,
    /** A log end read now (not kept from before): where a consumer that starts at the live end starts. */
    private readonly liveEnds: (topic: string) => Promise<Map<number, LogRange>>,
  ) {
    const { GROUP_JOIN, FETCH, END_BATCH_PROCESS, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      // A rejoin may bring other partitions, and a group without commits starts them at the live end again.
      this.assigned = Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })));
      this.next.clear();
      this.joined = true;
    });
    consumer.on(FETCH, () => {
      if (!this.joined) return;
      this.joined = false;
      // KafkaJS looks up the live end in the first fetch after a join; reading it after that
      // fetch can only count records it has not read yet as read, and those are read soon.
      void this.startAtLiveEnd();
    });
    consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      this.next.set(key(payload.topic, payload.partition), Number(payload.lastOffset) + 1);
    });
    // Also on a crash: KafkaJS disconnects, then joins again (or not) with a fresh assignment.
    consumer.on(DISCONNECT, () => {
      this.assigned = [];
      this.next.clear();
    });
  }

  /** Each assigned partition with the next offset to read, once known. */
  positions(): PartitionPosition[] {
    return this.assigned.map(({ topic, partition }) => ({ topic, partition, next: this.next.get(key(topic, partition)) }));
  }

  private async startAtLiveEnd(): Promise<void> {
    const assigned = this.assigned;
    const topics = [...new Set(assigned.map((a) => a.topic))];
    try {
      const ends = await Promise.all(topics.map(async (t) => [t, await this.liveEnds(t)] as const));
      // Joined again meanwhile: that join's own first fetch sets its start.
      if (this.joined || this.assigned !== assigned) return;
      for (const [topic, ranges] of ends) {
        for (const [partition, range] of ranges) {
          const k = key(topic, partition);
          if (!this.next.has(k) && assigned.some((a) => a.topic === topic && a.partition === partition)) this.next.set(k, range.high);
        }
      }
    } catch {
      // Unknown until the partition's next batch; the next join tries again.
    }
  }
}

/**
 * `kafka`, except that every consumer it creates is handed to `watch` first, with its group:
 * the consumers' own classes stay as they are and only their events are listened to.
 */
export function watchingConsumers(kafka: Kafka, watch: (consumer: Consumer, groupId: string) => void): Kafka {
  return new Proxy(kafka, {
    get(target, property, receiver) {
      if (property !== 'consumer') return Reflect.get(target, property, receiver);
      return (config: ConsumerConfig): Consumer => {
        const consumer = target.consumer(config);
        watch(consumer, config.groupId);
        return consumer;
      };
    },
  });
}
