import type { OutgoingRecord } from '../domain/publishing';
import { kafkajs } from './runtime';

type PartitionMetadata = Array<{ partitionId: number; leader: number; replicas: number[]; isr: number[]; partitionErrorCode: number; offlineReplicas: number[] }>;

/**
 * The partition of a record as KafkaJS's default (Java-compatible murmur2) partitioner chooses it,
 * chosen here rather than inside KafkaJS so the publisher knows each record's partition before it
 * sends, and so its offset from the partition's base offset in the response.
 */
export class PartitionSelector {
  private readonly partitioner = kafkajs().Partitioners.DefaultPartitioner();

  /** KafkaJS's partitioner wants partition metadata; only the count matters to it. */
  private readonly metadataFor = new Map<number, PartitionMetadata>();

  /** Partition of each recently seen key, per partition count: users come back, and hashing each time shows in profiles. */
  private readonly keyPartitions = new Map<number, Map<string, number>>();

  partitionFor(record: OutgoingRecord, count: number): number {
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
}
