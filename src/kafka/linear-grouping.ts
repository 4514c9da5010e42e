import { exportMarked, replaceExport, type InstallResult } from './module-export';

/**
 * KafkaJS 2.2.4 groups a produce call's messages by partition with
 * `Object.assign(result, { [partition]: [...current, message] })` for each message: the array of
 * a partition is copied whole for every message added to it, so grouping n messages of one
 * partition costs n²/2 element copies. The processor publishes tens of thousands of processed
 * events at once (a group of batches), where that copying shows in its profile.
 *
 * `installLinearGrouping` puts a grouping with the same result (an object from partition to its
 * messages, in call order; `{}` without partition metadata) in place of that module's export,
 * appending instead of copying. It must run before KafkaJS is first loaded (KafkaJS's producer
 * requires the module once, at load): `installKafkaPatches` (`patches.ts`) runs it, from
 * `createKafka`. If the module is not where 2.2.4 has it, nothing is replaced and the install says
 * so. Upstream: tulios/kafkajs#1576 (open); see docs/kafka-patches.md.
 */

interface GroupArgs<M> {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: M }) => number;
}

const LINEAR = Symbol.for('activity-gateway.linear-grouping');

/** Messages by the partition the partitioner gives each, in their order; one pass. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}
Object.defineProperty(groupMessagesPerPartition, LINEAR, { value: true });

export const GROUPING = 'kafkajs/src/producer/groupMessagesPerPartition';

/** Whether KafkaJS's grouping export is this module's now. */
export function linearGroupingInstalled(): boolean {
  return exportMarked(GROUPING, LINEAR);
}

/** Replaces the grouping export of `target` (KafkaJS's) by the linear one, once; says whether it is in place. */
export function installLinearGrouping(target = GROUPING): InstallResult {
  return replaceExport(target, LINEAR, () => groupMessagesPerPartition);
}
