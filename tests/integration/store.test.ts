import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store';
import { migrate, readMigrations } from '../../src/store/migrate';
import { projectRoot } from '../../src/paths';
import { Leftovers, PG_URL, throwawaySchema } from '../support/harness';

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
