import type { CompressionTypes, Message, Producer, TopicMessages } from 'kafkajs';
import type { OutgoingRecord, RecordPosition } from '../domain/publishing';

/** One publish's records in a produce request, with the partition of each. */
export interface BatchPart {
  records: OutgoingRecord[];
  partitions: number[];
}

/**
 * Sends the records of `parts` in one `sendBatch` (`acks: -1`) and gives each part the positions
 * of its records, in their order; undefined for a part the broker's answer did not cover every
 * partition of. Within a topic and partition the records go in the order their parts are given,
 * so each record's offset follows from its partition's base offset in the response. Each
 * partition's records go as one record batch compressed with `compression` (a record batch's
 * compression number: `COMPRESSION_TYPES` of `compression.ts`; 0, none, by default).
 * @throws what `sendBatch` throws.
 */
export async function produceBatch<P extends BatchPart>(producer: Producer, parts: P[], compression = 0): Promise<Map<P, RecordPosition[] | undefined>> {
  // Per topic and partition, the records in the order their callers queued them.
  const byTopic = new Map<string, Map<number, Array<{ part: P; index: number }>>>();
  for (const part of parts) {
    part.records.forEach((r, index) => {
      const partition = part.partitions[index]!;
      let partitions = byTopic.get(r.topic);
      if (!partitions) byTopic.set(r.topic, (partitions = new Map()));
      let slot = partitions.get(partition);
      if (!slot) partitions.set(partition, (slot = []));
      slot.push({ part, index });
    });
  }
  const topicMessages: TopicMessages[] = [];
  for (const [topic, partitions] of byTopic) {
    const messages: Message[] = [];
    for (const [partition, slot] of partitions) {
      for (const { part, index } of slot) {
        const r = part.records[index]!;
        messages.push({ key: r.key, value: r.value, headers: r.headers, partition });
      }
    }
    topicMessages.push({ topic, messages });
  }

  const results = await producer.sendBatch({ acks: -1, topicMessages, compression: compression as CompressionTypes });
  const positions = new Map<P, RecordPosition[]>(parts.map((p) => [p, new Array(p.records.length)]));
  for (const result of results) {
    const slot = byTopic.get(result.topicName)?.get(result.partition);
    if (!slot) continue;
    const text = result.baseOffset ?? '0';
    // Offsets fit a double exactly for 2^53 records a partition; past that, BigInt.
    const small = Number(text);
    const base = Number.isSafeInteger(small + slot.length) ? small : undefined;
    const big = base === undefined ? BigInt(text) : 0n;
    slot.forEach(({ part, index }, i) => {
      const offset = base !== undefined ? String(base + i) : String(big + BigInt(i));
      positions.get(part)![index] = { topic: result.topicName, partition: result.partition, offset };
    });
  }
  const answered = new Map<P, RecordPosition[] | undefined>();
  for (const [part, pos] of positions) answered.set(part, pos.some((x) => x === undefined) ? undefined : pos);
  return answered;
}
