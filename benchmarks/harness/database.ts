import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PG_URL } from './config';

/** A throwaway PostgreSQL schema and a URL whose connections use it. */
export async function schema(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA ${name}`);
  await c.end();
  const u = new URL(PG_URL);
  u.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: u.toString(),
    name,
    drop: async () => {
      const d = new pg.Client({ connectionString: PG_URL });
      await d.connect();
      await d.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await d.end();
    },
  };
}

/** Runs `f` with the URL of a throwaway schema, dropped afterwards whatever `f` did. */
export async function withDb<T>(f: (url: string) => Promise<T>): Promise<T> {
  const s = await schema();
  try {
    return await f(s.url);
  } finally {
    await s.drop();
  }
}
