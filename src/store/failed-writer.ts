import type { Queryable } from './store';

/** A record that could not be processed, bound for the DLQ and the failed_events table. */
export interface FailedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  reason: string;
  rawValue: string;
}

/** Stores records that could not be processed (a position already stored is skipped). */
export async function writeFailed(tx: Queryable, failed: FailedRecord[]): Promise<void> {
  await tx.query(
    `INSERT INTO failed_events (topic, partition, "offset", key, reason, raw_value)
     SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[])
     ON CONFLICT (topic, partition, "offset") DO NOTHING`,
    [
      failed.map((f) => f.topic),
      failed.map((f) => f.partition),
      failed.map((f) => f.offset),
      failed.map((f) => f.key),
      failed.map((f) => f.reason),
      failed.map((f) => f.rawValue),
    ],
  );
}
