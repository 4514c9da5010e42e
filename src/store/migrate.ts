import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from './store';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** Reads `NNN_name.sql` files in version order; a malformed name or a repeated version is an error. */
export function readMigrations(dir: string): Migration[] {
  const seen = new Set<number>();
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE.exec(file);
    if (!m) throw new Error(`migration file name "${file}" is not NNN_name.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`migration version ${version} appears twice`);
    seen.add(version);
    migrations.push({ version, name: m[2]!, sql: readFileSync(join(dir, file), 'utf8') });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/** Any fixed 64-bit key: serialises concurrent migrators (several gateway instances starting). */
const MIGRATION_LOCK = 7_316_554_201;

/**
 * Applies the migrations that are not yet recorded in `schema_migrations`, each in its own
 * transaction, in version order. Instances starting together wait on an advisory lock, so each
 * migration runs once. Returns the versions applied now.
 */
export async function migrate(store: Store, migrations: Migration[]): Promise<number[]> {
  // Under the lock too: two CREATE TABLE IF NOT EXISTS at once can both find no table, and the
  // second then fails on the catalog's unique index instead of finding the first one's.
  await store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  });
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const r = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (r.rows.length > 0) return false;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/**
 * Splits a migration script into statements at semicolons that end a line, outside
 * dollar-quoted bodies. Migrations keep one statement per `;`-terminated line group.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of sql.split('\n')) {
    const trimmed = line.trim();
    if (!inDollar && (trimmed.startsWith('--') || trimmed === '')) continue;
    current += line + '\n';
    const dollars = line.match(/\$\$/g)?.length ?? 0;
    if (dollars % 2 === 1) inDollar = !inDollar;
    if (!inDollar && trimmed.endsWith(';')) {
      statements.push(current.trim());
      current = '';
    }
  }
  if (current.trim() !== '') statements.push(current.trim());
  return statements;
}
