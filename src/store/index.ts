import { join } from 'node:path';
import { projectRoot } from '../paths';
import { migrate, readMigrations } from './migrate';
import { PgStore } from './pg-store';
import { PgliteStore } from './pglite-store';
import type { Store } from './store';

export type { Queryable, Store } from './store';

export interface StoreOptions {
  databaseUrl?: string;
  pgliteDir: string;
  schema?: string;
}

/**
 * Opens the configured store (PostgreSQL when a URL is given, PGlite otherwise) and brings its
 * schema up to date. Rejects when the database cannot be reached or a migration fails.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const store: Store = options.databaseUrl
    ? new PgStore({ url: options.databaseUrl, schema: options.schema })
    : await PgliteStore.open(options.pgliteDir);
  try {
    await migrate(store, readMigrations(join(projectRoot(), 'migrations')));
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
