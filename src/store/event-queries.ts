import type { SequencedEvent, StoredEvent } from '../domain/processed-event';
import { encodeCursor } from '../domain/cursor';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './rows';
import type { Queryable } from './store';

/** What processedEvents and eventProcessed filter on. */
export interface EventQuery {
  userId?: string | null;
  types?: readonly string[] | null;
  sessionId?: string | null;
  contentId?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** The WHERE clause of an event query, with its parameters numbered from `offset + 1`. */
function where(q: EventQuery, params: unknown[]): string {
  const clauses: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (q.userId) add('user_id = ?', q.userId);
  if (q.types && q.types.length > 0) add('type = ANY(?::text[])', q.types);
  if (q.sessionId) add('session_id = ?', q.sessionId);
  if (q.contentId) add('content_id = ?', q.contentId);
  if (q.since) add('occurred_at >= ?', q.since.toISOString());
  if (q.until) add('occurred_at < ?', q.until.toISOString());
  return clauses.length > 0 ? clauses.join(' AND ') : 'TRUE';
}

/** Events matching `q` after `afterSeq` in processing order, `limit` at most. */
export async function findEvents(db: Queryable, q: EventQuery, limit: number, afterSeq: number | null): Promise<StoredEvent[]> {
  const params: unknown[] = [];
  let sql = `SELECT ${EVENT_COLUMNS} FROM activity_events WHERE ${where(q, params)}`;
  if (afterSeq !== null) {
    params.push(afterSeq);
    sql += ` AND seq > $${params.length}`;
  }
  params.push(limit);
  sql += ` ORDER BY seq ASC LIMIT $${params.length}`;
  return (await db.query<EventRow>(sql, params)).rows.map(toStoredEvent);
}

export async function countEvents(db: Queryable, q: EventQuery): Promise<number> {
  const params: unknown[] = [];
  const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM activity_events WHERE ${where(q, params)}`, params);
  return r.rows[0]!.n;
}

export async function eventById(db: Queryable, eventId: string): Promise<StoredEvent | null> {
  const r = await db.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM activity_events WHERE event_id = $1`, [eventId]);
  return r.rows[0] ? toStoredEvent(r.rows[0]) : null;
}

/** The newest `first` events of each user, newest first, in one statement. */
export async function recentEventsOf(db: Queryable, userIds: readonly string[], first: number): Promise<Map<string, StoredEvent[]>> {
  const r = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM (
       SELECT e.*, row_number() OVER (PARTITION BY user_id ORDER BY seq DESC) AS rn
         FROM activity_events e WHERE user_id = ANY($1::text[])
     ) t WHERE rn <= $2 ORDER BY user_id, seq DESC`,
    [userIds, first],
  );
  const out = new Map<string, StoredEvent[]>();
  for (const row of r.rows) {
    const e = toStoredEvent(row);
    let list = out.get(e.userId);
    if (!list) out.set(e.userId, (list = []));
    list.push(e);
  }
  return out;
}

/** Where the stored events end: the newest `seq`, 0 while there is none. The live stream starts there. */
export async function latestSeq(db: Queryable): Promise<number> {
  const r = await db.query<{ max: number }>('SELECT coalesce(max(seq), 0) AS max FROM activity_events');
  return Number(r.rows[0]!.max);
}

/**
 * The events with `after < seq <= upTo` in processing order, in one statement, each with its
 * cursor and its predecessor among them (`after` for the first): what the fan-out fills a gap in
 * the processed topic with. `seq` has holes (a conflicting insert uses one up), so the predecessor
 * is the previous row, not `seq - 1`.
 */
export async function eventsInSeqRange(db: Queryable, after: number, upTo: number): Promise<Array<SequencedEvent & { cursor: string }>> {
  const r = await db.query<EventRow & { prev_seq: number }>(
    `SELECT ${EVENT_COLUMNS}, lag(seq, 1, $1::bigint) OVER (ORDER BY seq) AS prev_seq
       FROM activity_events WHERE seq > $1 AND seq <= $2 ORDER BY seq`,
    [after, upTo],
  );
  return r.rows.map((row) => ({ ...toStoredEvent(row), prevSeq: Number(row.prev_seq), cursor: encodeCursor('ev', Number(row.seq)) }));
}
