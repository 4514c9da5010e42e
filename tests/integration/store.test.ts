import type { ProcessedEventMessage } from '../../src/domain/processed-event';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store';
import { migrate, readMigrations } from '../../src/store/migrate';
import { projectRoot } from '../../src/paths';
import { INLINE_PARAMETERS_BYTES, storeBatch, type IncomingEvent } from '../../src/store/event-writer';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from '../../src/store/rows';
import { arrayLiteral, sqlLiteral } from '../../src/store/sql-literals';
import type { ActivityValue } from '../../src/domain/activity';
import { Leftovers, PG_URL, throwawaySchema } from '../support/harness';
import { failedPage } from '../../src/store/failed-queries';
import { eventsInSeqRange, latestSeq } from '../../src/store/event-queries';
import { encodeCursor } from '../../src/domain/cursor';

import { recomputeRisk, writeAlerts } from '../../src/store/alert-writer';
import { wipeProcessedState } from '../../src/store/event-writer';
import type { FraudAlertMessage } from '../../src/domain/alerts';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

async function roundTrip(store: Store): Promise<void> {
  await store.query(
    `INSERT INTO activity_events (event_id, user_id, type, occurred_at, received_at, properties, device, kafka_partition, kafka_offset)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    ['e-1', 'u-1', 'PAGE_VIEW', '2024-01-15T10:30:45.123Z', '2024-01-15T10:30:46.000Z', { page: '/' }, { type: 'MOBILE' }, 2, 41],
  );
  const r = await store.query<{ event_id: string; occurred_at: Date; properties: unknown; device: unknown; kafka_offset: number }>(
    'SELECT event_id, occurred_at, properties, device, kafka_offset FROM activity_events WHERE user_id = $1',
    ['u-1'],
  );
  expect(r.rows).toHaveLength(1);
  expect(r.rows[0]!.event_id).toBe('e-1');
  expect(new Date(r.rows[0]!.occurred_at).toISOString()).toBe('2024-01-15T10:30:45.123Z');
  expect(r.rows[0]!.properties).toEqual({ page: '/' });
  expect(r.rows[0]!.device).toEqual({ type: 'MOBILE' });
  expect(r.rows[0]!.kafka_offset).toBe(41);

  // The unique eventId is the dedup key: a second insert of it is ignored.
  const again = await store.query(
    `INSERT INTO activity_events (event_id, user_id, type, occurred_at, received_at, kafka_partition, kafka_offset)
     VALUES ('e-1', 'u-1', 'CLICK', now(), now(), 0, 0) ON CONFLICT (event_id) DO NOTHING`,
  );
  expect(again.rowCount).toBe(0);

  // A transaction that throws leaves nothing behind.
  await expect(
    store.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO activity_events (event_id, user_id, type, occurred_at, received_at, kafka_partition, kafka_offset)
         VALUES ('e-2', 'u-1', 'CLICK', now(), now(), 0, 1)`,
      );
      throw new Error('abort');
    }),
  ).rejects.toThrow('abort');
  const count = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_events');
  expect(count.rows[0]!.n).toBe(1);

  // Migrations are recorded: running them again applies nothing.
  expect(await migrate(store, readMigrations(join(projectRoot(), 'migrations')))).toEqual([]);
}

/** A new store of that kind: PostgreSQL in a throwaway schema, or PGlite in memory; closed after the tests. */
async function storeOf(kind: string): Promise<Store> {
  let store: Store;
  if (kind === 'postgres') {
    const schema = await throwawaySchema();
    leftovers.add(() => schema.drop());
    store = await openStore({ databaseUrl: PG_URL, pgliteDir: 'unused', schema: schema.name });
  } else {
    store = await openStore({ pgliteDir: 'memory://' });
  }
  leftovers.add(() => store.close());
  return store;
}

describe('the store', () => {
  it('round-trips rows through real PostgreSQL', async () => {
    const schema = await throwawaySchema();
    leftovers.add(() => schema.drop());
    const store = await openStore({ databaseUrl: PG_URL, pgliteDir: 'unused', schema: schema.name });
    leftovers.add(() => store.close());
    expect(store.kind).toBe('postgres');
    await roundTrip(store);
  });

  it('round-trips rows through the embedded store and keeps them across a restart', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pglite-')), 'data');
    const first = await openStore({ pgliteDir: dir });
    expect(first.kind).toBe('pglite');
    await roundTrip(first);
    await first.close();

    const second = await openStore({ pgliteDir: dir });
    leftovers.add(() => second.close());
    const r = await second.query<{ event_id: string }>('SELECT event_id FROM activity_events');
    expect(r.rows.map((x) => x.event_id)).toEqual(['e-1']);
  });

  it.each(['postgres', 'pglite'])('returns each written event exactly as it reads back (%s)', async (kind) => {
    const store = await storeOf(kind);
    const full: ActivityValue = {
      schemaVersion: 1, eventId: 'w-1', userId: 'u-1', type: 'PURCHASE' as ActivityValue['type'], occurredAt: '2024-01-15T10:30:45.123Z', receivedAt: '2024-01-15T10:30:46.000Z',
      sessionId: 's-1', contentId: 'p-1', pageUrl: '/checkout', referrer: 'https://example.com/', properties: { zeta: 1, amount: 12.5, nested: { b: [1, 'x'], a: null } },
      device: { type: 'MOBILE', os: 'iOS', browser: 'Safari' } as ActivityValue['device'], location: { country: 'DE', city: 'Berlin' } as ActivityValue['location'], ipAddress: '203.0.113.9', userAgent: 'UA',
    };
    // A value from another producer may leave the optional fields out.
    const sparse = { schemaVersion: 1, eventId: 'w-2', userId: 'u-2', type: 'PAGE_VIEW', occurredAt: '2024-01-15T10:31:00.000Z', receivedAt: '2024-01-15T10:31:00.500Z', properties: {} } as unknown as ActivityValue;
    const events: IncomingEvent[] = [
      { value: full, partition: 3, offset: '17' },
      { value: sparse, partition: 1, offset: '123456789012' },
      { value: { ...full, userId: 'u-ignored' }, partition: 4, offset: '2' }, // the same eventId again: the first one is the row
    ];
    const { stored, inserted } = await storeBatch(store, events, []);
    expect(inserted).toBe(2);
    const rows = await store.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM activity_events ORDER BY seq`);
    expect(stored.map(({ prevSeq: _p, ...e }) => e)).toEqual(rows.rows.map(toStoredEvent));
    expect(stored.map((e) => e.prevSeq)).toEqual([0, stored[0]!.seq]);
    expect(stored[1]!.offset).toBe('123456789012');
    // The new sessions and profiles came with the same statement.
    const sessions = await store.query<{ user_id: string; session_id: string }>('SELECT user_id, session_id FROM user_sessions');
    expect(sessions.rows).toEqual([{ user_id: 'u-1', session_id: 's-1' }]);
    const profiles = await store.query<{ user_id: string; total_events: number; session_count: number }>('SELECT user_id, total_events, session_count FROM user_profiles ORDER BY user_id');
    expect(profiles.rows.map((p) => [p.user_id, Number(p.total_events), Number(p.session_count)])).toEqual([['u-1', 1, 1], ['u-2', 1, 0]]);
    // The same batch again (a redelivery) changes nothing and returns the same events.
    const again = await storeBatch(store, events, []);
    expect(again.inserted).toBe(0);
    expect(again.stored).toEqual(stored);
    const after = await store.query<{ total_events: number }>('SELECT total_events FROM user_profiles ORDER BY user_id');
    expect(after.rows.map((p) => Number(p.total_events))).toEqual([1, 1]);
  });

  it.each(['postgres', 'pglite'])('stores any text of an event as it was, through a small group and a large one (%s)', async (kind) => {
    const store = await storeOf(kind);
    const odd = ["it's", 'a "quoted" word', 'back\\slash \\"both\\"', '{braces}, comma', 'NULL', 'null', '', '  spaced  ', 'ü ✓ 日本 😀', 'line\nbreak\ttab', '\\u0041 as text'];
    const base: ActivityValue = {
      schemaVersion: 1, eventId: '', userId: 'u-odd', type: 'SEARCH' as ActivityValue['type'], occurredAt: '2024-01-15T10:30:45.123Z', receivedAt: '2024-01-15T10:30:46.000Z',
      sessionId: null, contentId: null, pageUrl: null, referrer: null, properties: {}, device: null, location: null, ipAddress: null, userAgent: null,
    };
    const events: IncomingEvent[] = odd.map((text, i) => ({
      value: { ...base, eventId: `odd-${i}-${text}`, sessionId: text, pageUrl: text, referrer: text, userAgent: text, properties: { [text]: text, list: [text, null] } },
      partition: i % 3,
      offset: String(i),
    }));
    // Enough copies to pass INLINE_PARAMETERS_BYTES: the same texts with parameters instead of literals.
    const large: IncomingEvent[] = Array.from({ length: 400 }, (_, k) => events.map((e) => ({ ...e, value: { ...e.value, eventId: `${e.value.eventId}-${k}` } }))).flat();
    for (const group of [events, large]) {
      const { stored, inserted } = await storeBatch(store, group, []);
      expect(inserted).toBe(group.length);
      const rows = await store.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM activity_events WHERE event_id = ANY($1::text[]) ORDER BY seq`, [group.map((e) => e.value.eventId)]);
      expect(rows.rows.map(toStoredEvent)).toEqual(stored.map(({ prevSeq: _p, ...e }) => e));
      expect(stored.map((e) => [e.eventId, e.pageUrl, e.referrer, e.sessionId, e.userAgent, e.properties, e.device, e.location])).toEqual(
        group.map((e) => [e.value.eventId, e.value.pageUrl, e.value.referrer, e.value.sessionId, e.value.userAgent, e.value.properties, null, null]),
      );
      const nulls = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_events WHERE event_id = ANY($1::text[]) AND device IS NULL AND location IS NULL AND content_id IS NULL', [group.map((e) => e.value.eventId)]);
      expect(Number(nulls.rows[0]!.n)).toBe(group.length);
    }
    await store.close();
  });

  it.each(['postgres', 'pglite'])('carries any text through its array literals as it was (%s)', async (kind) => {
    const store = await storeOf(kind);
    const texts = ['plain', "it's", "''", "\\'", 'a "quoted" word', 'back\\slash \\"both\\"', 'no quote, one \\ backslash', '{braces}', 'comma, and; semicolon', 'NULL', '', '  spaced  ', 'ü ✓ 日本', '{"k":"v \\" \\\\ x","n":[1,null]}', null, undefined];
    const r = await store.query<{ v: string | null }>('SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i', [arrayLiteral(texts)]);
    expect(r.rows.map((x) => x.v)).toEqual(texts.map((t) => t ?? null));
    // The same literal inside the statement's text, as a small group's statements carry it.
    const inline = await store.query<{ v: string | null }>(`SELECT v FROM unnest(${sqlLiteral(arrayLiteral(texts))}::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i`);
    expect(inline.rows.map((x) => x.v)).toEqual(texts.map((t) => t ?? null));
    const objects = [{ q: 'say "hi"', b: 'c:\\dir\\', nested: { u: '✓', list: [1, 'x', null] } }, {}, null];
    const j = await store.query<{ v: unknown }>('SELECT v FROM unnest($1::jsonb[]) WITH ORDINALITY AS t(v, i) ORDER BY i', [arrayLiteral(objects.map((o) => (o === null ? null : JSON.stringify(o))))]);
    expect(j.rows.map((x) => x.v)).toEqual(objects);
    const n = await store.query<{ v: string }>('SELECT v::text FROM unnest($1::bigint[]) WITH ORDINALITY AS t(v, i) ORDER BY i', [arrayLiteral([0, 7, '123456789012', -3])]);
    expect(n.rows.map((x) => x.v)).toEqual(['0', '7', '123456789012', '-3']);
  });

  it.each(['postgres', 'pglite'])('writes a small group in two round trips and a large one with parameters, alike (%s)', async (kind) => {
    const store = await storeOf(kind);
    const batch = (prefix: string, n: number, pad: number): IncomingEvent[] =>
      Array.from({ length: n }, (_, i) => ({
        value: { schemaVersion: 1, eventId: `${prefix}-${i}`, userId: `u-${i % 3}`, type: 'PAGE_VIEW', occurredAt: '2024-01-15T10:30:45.123Z', receivedAt: '2024-01-15T10:30:46.000Z',
          sessionId: `s-${i % 3}`, pageUrl: `/p/${'x'.repeat(pad)}`, properties: { q: "it's \\ \"quoted\"" } } as unknown as ActivityValue,
        partition: i % 6, offset: String(i),
      }));
    const small = batch('small', 3, 10);
    let before = store.statements;
    const first = await storeBatch(store, small, []);
    expect(store.statements - before).toBe(2); // BEGIN with the lock and the statement; the profiles with the COMMIT
    const large = batch('large', 30, Math.ceil(INLINE_PARAMETERS_BYTES / 30));
    before = store.statements;
    const second = await storeBatch(store, large, []);
    expect(store.statements - before).toBe(3); // the lock; the statement and the profiles with their parameters
    expect(first.inserted + second.inserted).toBe(33);
    const rows = await store.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM activity_events ORDER BY seq`);
    expect([...first.stored, ...second.stored].map(({ prevSeq: _p, ...e }) => e)).toEqual(rows.rows.map(toStoredEvent));
    expect(second.stored[0]!.prevSeq).toBe(first.stored.at(-1)!.seq);
    expect(rows.rows[0]!.properties).toEqual({ q: "it's \\ \"quoted\"" });
    const profiles = await store.query<{ user_id: string; total_events: number; session_count: number }>('SELECT user_id, total_events, session_count FROM user_profiles ORDER BY user_id');
    expect(profiles.rows.map((p) => [p.user_id, Number(p.total_events), Number(p.session_count)])).toEqual([['u-0', 11, 1], ['u-1', 11, 1], ['u-2', 11, 1]]);
    // The writer's statements were prepared once on the connection (sequential transactions reuse it) and executed since.
    const named = await store.transaction((tx) => tx.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name'));
    expect(named.rows.map((r) => r.name)).toEqual(['activity_profiles', 'activity_writer']);
  });

  it.each(['postgres', 'pglite'])('runs a transaction\'s closing script with the COMMIT, and rolls back when it fails (%s)', async (kind) => {
    const store = await storeOf(kind);
    const insert = (id: string) => `INSERT INTO activity_events (event_id, user_id, type, occurred_at, received_at, kafka_partition, kafka_offset) VALUES ('${id}', 'u', 'CLICK', now(), now(), 0, 0)`;
    await store.transaction(async (tx) => {
      await tx.query(insert('c-1'));
      tx.closing(insert('c-2'));
    });
    await expect(
      store.transaction(async (tx) => {
        await tx.query(insert('c-3'));
        tx.closing('SELECT 1 / 0');
      }),
    ).rejects.toThrow();
    const r = await store.query<{ event_id: string }>('SELECT event_id FROM activity_events ORDER BY event_id');
    expect(r.rows.map((x) => x.event_id)).toEqual(['c-1', 'c-2']);
  });

  it.each(['postgres', 'pglite'])('pages failed records with their total from one statement, empty pages included (%s)', async (kind) => {
    const store = await storeOf(kind);
    expect(await failedPage(store, 2, null)).toEqual({ rows: [], total: 0 });
    const failed = [1, 2, 3].map((i) => ({ topic: 't', partition: 0, offset: String(i), key: null, reason: `bad ${i}`, rawValue: `x${i}` }));
    await storeBatch(store, [], failed);
    const before = store.statements;
    const first = await failedPage(store, 2, null);
    expect(store.statements - before).toBe(1);
    expect(first.total).toBe(3);
    expect(first.rows.map((r) => [r.offset, r.reason, r.rawValue])).toEqual([['1', 'bad 1', 'x1'], ['2', 'bad 2', 'x2']]);
    const rest = await failedPage(store, 2, first.rows[1]!.seq);
    expect(rest.rows.map((r) => r.offset)).toEqual(['3']);
    expect(await failedPage(store, 2, rest.rows[0]!.seq)).toEqual({ rows: [], total: 3 });
  });

  it.each(['postgres', 'pglite'])('says where the stored events end, and reads a range of them back as the processed topic carries them (%s)', async (kind) => {
    const store = await storeOf(kind);
    const batch = (ids: string[], from: number): IncomingEvent[] =>
      ids.map((id, i) => ({
        value: { schemaVersion: 1, eventId: id, userId: `u-${i % 2}`, type: 'PAGE_VIEW', occurredAt: '2024-01-15T10:30:45.123Z', receivedAt: '2024-01-15T10:30:46.000Z', pageUrl: `/${id}`, properties: {} } as unknown as ActivityValue,
        partition: i % 3, offset: String(from + i),
      }));
    expect(await latestSeq(store)).toBe(0);
    expect(await eventsInSeqRange(store, 0, 100)).toEqual([]);
    const first = await storeBatch(store, batch(['r-1', 'r-2', 'r-3'], 0), []);
    expect(await latestSeq(store)).toBe(first.stored.at(-1)!.seq);
    // A redelivered event ahead of new ones uses up a seq: the range has a hole to step over.
    const second = await storeBatch(store, batch(['r-2', 'r-4', 'r-5'], 3), []);
    const all = [...first.stored, ...second.stored.slice(1)];
    expect(all.map((e) => e.eventId)).toEqual(['r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
    expect(all[3]!.seq).toBeGreaterThan(all[2]!.seq + 1);
    expect(await latestSeq(store)).toBe(all[4]!.seq);

    const before = store.statements;
    const range: ProcessedEventMessage[] = await eventsInSeqRange(store, all[0]!.seq, all[4]!.seq);
    expect(store.statements - before).toBe(1);
    // What the writer returned for the same events (each with its stored predecessor), with cursors.
    expect(range).toEqual(all.slice(1).map((e) => ({ ...e, cursor: encodeCursor('ev', e.seq) })));
    // Bounds: after is left out, upTo is in; the first one's predecessor is `after`, even in a hole.
    const hole = all[2]!.seq + 1;
    const tail = await eventsInSeqRange(store, hole, all[3]!.seq);
    expect(tail.map((e) => [e.eventId, e.prevSeq])).toEqual([['r-4', hole]]);
    expect(await eventsInSeqRange(store, all[4]!.seq, all[4]!.seq + 10)).toEqual([]);
  });

  it.each(['postgres', 'pglite'])('stores alerts once, scores their users from the risk window, and scores them again after a rebuild (%s)', async (kind) => {
    const store = await storeOf(kind);
    const now = new Date('2024-02-01T00:00:00.000Z');
    const ago = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
    const alert = (alertId: string, userId: string, severity: string, detectedAt: string): FraudAlertMessage => ({
      alertId, userId, rule: 'HIGH_VELOCITY' as FraudAlertMessage['rule'], severity: severity as FraudAlertMessage['severity'], message: 'm', detectedAt, eventIds: ['e'], details: { n: 1 },
    });
    // The CRITICAL one is older than the window and counts for nothing.
    const alerts = [alert('a-1', 'u-a', 'HIGH', ago(1)), alert('a-2', 'u-a', 'MEDIUM', ago(2)), alert('a-3', 'u-a', 'CRITICAL', ago(40)), alert('a-4', 'u-b', 'LOW', ago(0.1))];
    const failed = [{ topic: 'alerts', partition: 0, offset: '9', key: null, reason: 'bad', rawValue: 'x' }];
    const scores = async () => (await store.query<{ user_id: string; risk_score: number }>('SELECT user_id, risk_score FROM user_profiles ORDER BY user_id')).rows.map((r) => [r.user_id, Number(r.risk_score)]);
    expect(await store.transaction((tx) => writeAlerts(tx, alerts, failed, now))).toBe(4);
    expect(await scores()).toEqual([['u-a', 0.625], ['u-b', 0.1]]);
    expect(await store.transaction((tx) => writeAlerts(tx, alerts, failed, now))).toBe(0);
    expect((await store.query<{ n: number }>('SELECT count(*)::int AS n FROM fraud_alerts')).rows[0]!.n).toBe(4);
    expect((await failedPage(store, 10, null)).total).toBe(1);
    // A rebuild wipes the profiles (the alerts stay) and puts the scores back from the alerts.
    await store.transaction((tx) => wipeProcessedState(tx));
    expect(await scores()).toEqual([]);
    await store.transaction((tx) => recomputeRisk(tx, now));
    expect(await scores()).toEqual([['u-a', 0.625], ['u-b', 0.1]]);
  });

  it('migrates once when several instances open a new schema at the same moment', async () => {
    const schema = await throwawaySchema();
    leftovers.add(() => schema.drop());
    const opened = await Promise.allSettled([1, 2, 3, 4].map(() => openStore({ databaseUrl: PG_URL, pgliteDir: 'unused', schema: schema.name })));
    for (const o of opened) if (o.status === 'fulfilled') leftovers.add(() => o.value.close());
    expect(opened.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const stores = opened.map((o) => (o as PromiseFulfilledResult<Store>).value);
    const r = await stores[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(r.rows[0]!.n).toBe(readMigrations(join(projectRoot(), 'migrations')).length);
  });

  it('counts the statements it runs', async () => {
    const store = await openStore({ pgliteDir: 'memory://' });
    leftovers.add(() => store.close());
    const before = store.statements;
    await store.query('SELECT 1');
    await store.transaction(async (tx) => {
      await tx.query('SELECT 1');
      await tx.query('SELECT 2');
    });
    expect(store.statements - before).toBe(3);
  });
});
