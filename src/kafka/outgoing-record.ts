import type { OutgoingRecord } from '../domain/publishing';

/** Under the broker's default message.max.bytes (1 MiB), with room for record overhead. */
export const DEFAULT_MAX_BATCH_BYTES = 900 * 1024;

/** A record's bytes in a produce request, estimated from its key, value and headers with room for framing. */
export function recordBytes(r: OutgoingRecord): number {
  let n = 64 + (r.key === null ? 0 : Buffer.byteLength(r.key)) + (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length);
  for (const [k, v] of Object.entries(r.headers)) n += k.length + Buffer.byteLength(v) + 8;
  return n;
}

/** Consecutive records of one publish that fit one produce request, with their partitions. */
export interface RecordRun {
  records: OutgoingRecord[];
  partitions: number[];
  bytes: number;
}

/**
 * Splits `records` (with the partition of each) into runs that each fit one produce request: at
 * most `maxBytes` estimated bytes and `maxRecords` records, a record larger than that alone. The
 * runs keep the records' order, so sending them in turn keeps it too.
 */
export function splitIntoRequests(records: OutgoingRecord[], partitions: number[], maxBytes: number, maxRecords: number): RecordRun[] {
  const runs: RecordRun[] = [];
  let current: RecordRun = { records: [], partitions: [], bytes: 0 };
  records.forEach((r, i) => {
    const size = recordBytes(r);
    if (current.records.length > 0 && (current.bytes + size > maxBytes || current.records.length >= maxRecords)) {
      runs.push(current);
      current = { records: [], partitions: [], bytes: 0 };
    }
    current.records.push(r);
    current.partitions.push(partitions[i]!);
    current.bytes += size;
  });
  runs.push(current);
  return runs;
}
