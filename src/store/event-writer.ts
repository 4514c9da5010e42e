import type { SequencedEvent, StoredEvent } from '../domain/processed-event';
import type { ActivityValue } from '../domain/activity';
import { applyEvents, emptyProfile } from '../domain/profile';
import { writeFailed, type FailedRecord } from './failed-writer';
import { EVENT_COLUMNS, iso, PROFILE_COLUMNS, toProfile, toStoredEvent, type EventRow, type ProfileRow } from './rows';
import { arrayLiteral, literalBytes, sqlLiteral } from './sql-literals';
import type { Queryable, Store, Transaction } from './store';

/** An activity value with where it was read from. */
export interface IncomingEvent {
  value: ActivityValue;
  partition: number;
  offset: string;
}

/** Any fixed 64-bit key: serialises event writers, so `seq` order is commit order. */
const WRITER_LOCK = 5_550_811_977;

/** An event as the row it was just inserted as (what `toStoredEvent` would read back). */
function storedFrom(e: IncomingEvent, seq: number, processedAt: string): StoredEvent {
  const x = e.value;
  return {
    schemaVersion: 1,
    seq,
    eventId: x.eventId,
    userId: x.userId,
    type: x.type,
    occurredAt: x.occurredAt,
    receivedAt: x.receivedAt,
    processedAt,
    sessionId: x.sessionId ?? null,
    contentId: x.contentId ?? null,
    pageUrl: x.pageUrl ?? null,
    referrer: x.referrer ?? null,
    properties: x.properties ?? {},
    device: x.device ?? null,
    location: x.location ?? null,
    ipAddress: x.ipAddress ?? null,
    userAgent: x.userAgent ?? null,
    partition: e.partition,
    offset: String(e.offset),
  };
}

/** The writer lock: what a writer runs right after BEGIN, in the same round trip (`Store.transaction`'s opening). */
const WRITER_LOCK_STATEMENT = `SELECT pg_advisory_xact_lock(${WRITER_LOCK})`;

/**
 * Below this many bytes of array literals in all, a small group's statements run as `EXECUTE`
 * with the literals in the script, in the round trips of the writer's BEGIN and COMMIT (a
 * transaction is two round trips, not four, which is much of a small group's time in the
 * database). Larger ones keep their parameters, which PostgreSQL takes without scanning them as
 * SQL text.
 */
export const INLINE_PARAMETERS_BYTES = 64 * 1024;

/**
 * The writer's one statement: where the stored events end and the transaction's time (`head`,
 * whose snapshot, taken under the lock, holds none of this statement's rows), the events (only
 * the new rows' keys come back: the rest of each row is what was sent), the sessions those new
 * events start, and their users' profiles, locked.
 */
const WRITER_STATEMENT = `WITH head AS (
       SELECT coalesce(max(seq), 0) AS max, now() AS now FROM activity_events
     ), ev AS (
       INSERT INTO activity_events (event_id, user_id, type, occurred_at, received_at, session_id, content_id, page_url,
         referrer, properties, device, location, ip_address, user_agent, kafka_partition, kafka_offset)
       SELECT e, u, t, o::timestamptz, r::timestamptz, s, c, pu, rf, p, nullif(d, 'null'::jsonb), nullif(l, 'null'::jsonb), ip, ua, kp, ko
         FROM ROWS FROM (json_array_elements_text($1::json), json_array_elements_text($2::json), json_array_elements_text($3::json),
           json_array_elements_text($4::json), json_array_elements_text($5::json), json_array_elements_text($6::json),
           json_array_elements_text($7::json), json_array_elements_text($8::json), json_array_elements_text($9::json),
           jsonb_array_elements($10::jsonb), jsonb_array_elements($11::jsonb), jsonb_array_elements($12::jsonb),
           json_array_elements_text($13::json), json_array_elements_text($14::json), unnest($15::int[]), unnest($16::bigint[]))
           AS x(e, u, t, o, r, s, c, pu, rf, p, d, l, ip, ua, kp, ko)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING seq, event_id, user_id, session_id, occurred_at
     ), ses AS (
       INSERT INTO user_sessions (user_id, session_id, started_at)
       SELECT user_id, session_id, min(occurred_at) FROM ev WHERE session_id IS NOT NULL GROUP BY user_id, session_id
       ON CONFLICT (user_id, session_id) DO NOTHING RETURNING user_id
     ), prof AS (
       SELECT ${PROFILE_COLUMNS} FROM user_profiles WHERE user_id IN (SELECT user_id FROM ev) ORDER BY user_id FOR UPDATE
     )
     SELECT (SELECT max FROM head) AS max, (SELECT now FROM head) AS now,
            (SELECT coalesce(json_agg(json_build_array(seq, event_id)), '[]'::json) FROM ev) AS events,
            (SELECT coalesce(json_agg(user_id), '[]'::json) FROM ses) AS sessions,
            (SELECT coalesce(json_agg(prof), '[]'::json) FROM prof) AS profiles`;

/** The upsert of changed profiles. */
const PROFILE_STATEMENT = `INSERT INTO user_profiles (${PROFILE_COLUMNS}, updated_at)
     SELECT *, now() FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::int[], $5::jsonb[], $6::int[], $7::int[],
       $8::float8[], $9::jsonb[], $10::jsonb[], $11::jsonb[], $12::float8[], $13::int[], $14::text[], $15::float8[])
     ON CONFLICT (user_id) DO UPDATE SET
       first_seen_at = EXCLUDED.first_seen_at, last_seen_at = EXCLUDED.last_seen_at, total_events = EXCLUDED.total_events,
       event_counts = EXCLUDED.event_counts, session_count = EXCLUDED.session_count, purchase_count = EXCLUDED.purchase_count,
       total_spent = EXCLUDED.total_spent, devices = EXCLUDED.devices, countries = EXCLUDED.countries,
       preferences = EXCLUDED.preferences, completion_sum = EXCLUDED.completion_sum,
       completion_count = EXCLUDED.completion_count, segment = EXCLUDED.segment, updated_at = now()`;

/**
 * The writer's statements, prepared once per connection (`TransactionOptions.prepare`): a small
 * group's transaction runs them with `EXECUTE`, its arrays as literals in the script, so
 * PostgreSQL neither parses nor plans them again.
 */
const WRITER_STATEMENTS = Object.freeze({ activity_writer: WRITER_STATEMENT, activity_profiles: PROFILE_STATEMENT });

/** `EXECUTE name(…)` of a prepared writer statement with `values` as literals. */
function executeWith(name: keyof typeof WRITER_STATEMENTS, values: readonly string[]): string {
  return `EXECUTE ${name}(${values.map(sqlLiteral).join(', ')})`;
}

/** A batch's events with the writer's statement parameters already built (see prepareEvents). */
export interface PreparedEvents {
  events: IncomingEvent[];
  params: string[];
  /** For a small group, `EXECUTE` of the writer's statement with the parameters as literals (see INLINE_PARAMETERS_BYTES). */
  inline: string | null;
}

/**
 * The parameters of the writer's event statement: each column as one JSON array (JSON null for
 * SQL NULL), which `JSON.stringify` writes in one native pass and PostgreSQL unnests with
 * `json_array_elements_text` (and `jsonb_array_elements` for the jsonb columns); the partitions
 * and offsets, digits only, as array literals. That costs less, in JS and in PostgreSQL, than a
 * PostgreSQL array literal per column escaped in JS. The processor builds them while the previous
 * group's transaction is still in PostgreSQL, so that the writer, which runs one transaction at a
 * time, does not wait for them.
 */
export function prepareEvents(events: IncomingEvent[]): PreparedEvents {
  const v = events.map((e) => e.value);
  const params = [
    JSON.stringify(v.map((x) => x.eventId)),
    JSON.stringify(v.map((x) => x.userId)),
    JSON.stringify(v.map((x) => x.type)),
    JSON.stringify(v.map((x) => x.occurredAt)),
    JSON.stringify(v.map((x) => x.receivedAt)),
    JSON.stringify(v.map((x) => x.sessionId ?? null)),
    JSON.stringify(v.map((x) => x.contentId ?? null)),
    JSON.stringify(v.map((x) => x.pageUrl ?? null)),
    JSON.stringify(v.map((x) => x.referrer ?? null)),
    JSON.stringify(v.map((x) => x.properties ?? {})),
    JSON.stringify(v.map((x) => x.device ?? null)),
    JSON.stringify(v.map((x) => x.location ?? null)),
    JSON.stringify(v.map((x) => x.ipAddress ?? null)),
    JSON.stringify(v.map((x) => x.userAgent ?? null)),
    `{${events.map((e) => e.partition).join(',')}}`,
    `{${events.map((e) => e.offset).join(',')}}`,
  ];
  const inline = events.length > 0 && literalBytes(params) <= INLINE_PARAMETERS_BYTES ? executeWith('activity_writer', params) : null;
  return { events, params, inline };
}

/** Writes one consumed batch in a transaction of its own (see writeBatch). */
export function storeBatch(store: Store, events: IncomingEvent[] | PreparedEvents, failed: FailedRecord[]): Promise<{ stored: SequencedEvent[]; inserted: number }> {
  const prepared = Array.isArray(events) ? prepareEvents(events) : events;
  // A small group's statement goes with the lock, in BEGIN's round trip.
  const opening = prepared.inline ? `${WRITER_LOCK_STATEMENT}; ${prepared.inline}` : WRITER_LOCK_STATEMENT;
  return store.transaction((tx, opened) => writeBatch(tx, prepared, failed, prepared.inline ? (opened[0] as Written) : undefined), { opening, prepare: WRITER_STATEMENTS });
}

type Written = { max: number | string; now: Date | string; events: Array<[number, string]>; sessions: string[]; profiles: ProfileRow[] };

/**
 * Writes one consumed batch in a transaction that began with the writer lock (and, for a small
 * group, the writer's statement, whose row is `written`): events (a stored eventId is skipped),
 * the sessions and profiles of the users whose events are new, and failed records. Three
 * statements at most after the lock, whatever the batch size (besides a rare re-read of events a
 * redelivery finds stored); a small group's profiles go with the COMMIT. Returns every valid
 * event of the batch as stored (new or already there) with its predecessor, in batch order
 * without repeats.
 */
async function writeBatch(tx: Transaction, prepared: PreparedEvents, failed: FailedRecord[], written?: Written): Promise<{ stored: SequencedEvent[]; inserted: number }> {
  const { events, params } = prepared;
  let inserted: StoredEvent[] = [];
  const stored = new Map<string, SequencedEvent>();
  if (events.length > 0) {
    written ??= (await tx.query<Written>(WRITER_STATEMENT, params)).rows[0]!;
    // Under the lock no other writer commits: the newest stored event precedes this batch.
    // processed_at defaults to now(), the transaction's start, the same for every row.
    const base = Number(written.max);
    const processedAt = iso(written.now);
    const v = events.map((e) => e.value);
    // A batch may hold one eventId twice (a producer retry): the first occurrence is the row.
    const firstOf = new Map<string, IncomingEvent>();
    for (const e of events) if (!firstOf.has(e.value.eventId)) firstOf.set(e.value.eventId, e);
    inserted = written.events.map(([seq, eventId]) => storedFrom(firstOf.get(eventId)!, Number(seq), processedAt)).sort((a, b) => a.seq - b.seq);
    let prev = base;
    for (const e of inserted) {
      // Built here, so completed in place rather than copied.
      const sequenced = e as SequencedEvent;
      sequenced.prevSeq = prev;
      stored.set(e.eventId, sequenced);
      prev = e.seq;
    }
    if (inserted.length > 0) await updateProfiles(tx, inserted, written.sessions, written.profiles);
    const missing = [...new Set(v.map((x) => x.eventId).filter((id) => !stored.has(id)))];
    if (missing.length > 0) {
      const again = await tx.query<EventRow & { prev_seq: number }>(
        `SELECT ${EVENT_COLUMNS}, (SELECT coalesce(max(p.seq), 0) FROM activity_events p WHERE p.seq < e.seq) AS prev_seq
           FROM activity_events e WHERE event_id = ANY($1::text[])`,
        [missing],
      );
      for (const row of again.rows) stored.set(row.event_id, { ...toStoredEvent(row), prevSeq: Number(row.prev_seq) });
    }
  }
  if (failed.length > 0) await writeFailed(tx, failed);
  const order: SequencedEvent[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    const s = stored.get(e.value.eventId);
    if (s && !seen.has(s.eventId)) {
      seen.add(s.eventId);
      order.push(s);
    }
  }
  return { stored: order, inserted: inserted.length };
}

/**
 * Folds newly stored events into their users' profiles and writes them back. `newSessions` has
 * a user once per session the events started; `current` are the users' stored profiles.
 */
async function updateProfiles(tx: Transaction, events: StoredEvent[], newSessions: string[], current: ProfileRow[]): Promise<void> {
  const byUser = new Map<string, StoredEvent[]>();
  for (const e of events) {
    let list = byUser.get(e.userId);
    if (!list) byUser.set(e.userId, (list = []));
    list.push(e);
  }
  const users = [...byUser.keys()].sort();
  const started = new Map<string, number>();
  for (const u of newSessions) started.set(u, (started.get(u) ?? 0) + 1);
  const before = new Map(current.map((r) => [r.user_id, toProfile(r)]));
  const after = users.map((u) => applyEvents(before.get(u) ?? emptyProfile(u), byUser.get(u)!, started.get(u) ?? 0));
  const values = [
    after.map((p) => p.userId),
    after.map((p) => p.firstSeenAt),
    after.map((p) => p.lastSeenAt),
    after.map((p) => p.totalEvents),
    after.map((p) => JSON.stringify(p.eventCounts)),
    after.map((p) => p.sessionCount),
    after.map((p) => p.purchaseCount),
    after.map((p) => p.totalSpent),
    after.map((p) => JSON.stringify(p.devices)),
    after.map((p) => JSON.stringify(p.countries)),
    after.map((p) => JSON.stringify(p.preferences)),
    after.map((p) => p.completionSum),
    after.map((p) => p.completionCount),
    after.map((p) => p.segment),
    after.map((p) => p.riskScore),
  ];
  // The same literals node-postgres would send; a small upsert goes with the COMMIT.
  const literals = values.map((a) => arrayLiteral(a));
  if (literalBytes(literals) <= INLINE_PARAMETERS_BYTES) tx.closing(executeWith('activity_profiles', literals));
  else await tx.query(PROFILE_STATEMENT, literals);
}

/** Empties what the processor derives from the log (for `replay --rebuild`). */
export async function wipeProcessedState(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [WRITER_LOCK]);
  // Alerts come from their own topic and stay; risk scores are recomputed from them afterwards.
  await tx.query('TRUNCATE activity_events, user_profiles, user_sessions, failed_events');
}
