import type { Queryable } from './store';

/** A stored failed record. */
export interface FailedRow {
  seq: number;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  reason: string;
  failedAt: string;
  rawValue: string;
}

/**
 * A page of failed records after `afterSeq`, oldest first, with how many there are in all: one
 * statement, so the page and the count come from the same snapshot.
 */
export async function failedPage(db: Queryable, limit: number, afterSeq: number | null): Promise<{ rows: FailedRow[]; total: number }> {
  const r = await db.query<{ total: number; seq: number | null; topic: string; partition: number; offset: number | string; key: string | null; reason: string; failed_at: Date | string; raw_value: string }>(
    `SELECT t.total, p.* FROM (SELECT count(*)::int AS total FROM failed_events) t
       LEFT JOIN LATERAL (
         SELECT seq, topic, partition, "offset", key, reason, failed_at, raw_value FROM failed_events
          WHERE ($1::bigint IS NULL OR seq > $1) ORDER BY seq ASC LIMIT $2
       ) p ON true
      ORDER BY p.seq ASC`,
    [afterSeq, limit],
  );
  const rows = r.rows
    .filter((x) => x.seq !== null)
    .map((x) => ({
      seq: Number(x.seq),
      topic: x.topic,
      partition: x.partition,
      offset: String(x.offset),
      key: x.key,
      reason: x.reason,
      failedAt: new Date(x.failed_at).toISOString(),
      rawValue: x.raw_value,
    }));
  return { rows, total: r.rows[0]?.total ?? 0 };
}
