import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction as PGliteTransaction } from '@electric-sql/pglite';
import type { QueryResult, Store, Transaction, TransactionOptions } from './store';

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) with its data in a local folder, so the gateway runs
 * on a machine with no database server and keeps its data across restarts. One connection:
 * statements run one at a time, which is enough for development and small deployments.
 */
export class PgliteStore implements Store {
  /** Statements prepared on the one connection (see TransactionOptions.prepare). */
  private readonly prepared = new Set<string>();
  readonly kind = 'pglite' as const;
  private count = 0;

  private constructor(private readonly db: PGlite) {}

  /** Opens (creating if needed) the database in `dataDir`; `memory://` keeps it in memory. */
  static async open(dataDir: string): Promise<PgliteStore> {
    if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
    // Same number parsing as the pg store: int8 and numeric as JS numbers.
    const db = await PGlite.create(dataDir, { parsers: { 20: Number, 1700: Number } });
    return new PgliteStore(db);
  }

  get statements(): number {
    return this.count;
  }

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    this.count++;
    const r = await this.db.query<R>(sql, params as unknown[]);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  async exec(sql: string): Promise<void> {
    this.count++;
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: Transaction, opened: Array<Record<string, unknown>>) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.db.transaction(async (t: PGliteTransaction) => {
      let opened: Array<Record<string, unknown>> = [];
      if (options.opening) {
        this.count++;
        // One connection: each statement is prepared once, on its own (it outlives a rollback).
        for (const [name, sql] of Object.entries(options.prepare ?? {})) {
          if (this.prepared.has(name)) continue;
          await t.exec(`PREPARE ${name} AS ${sql}`);
          this.prepared.add(name);
        }
        opened = ((await t.exec(options.opening)).at(-1)?.rows ?? []) as Array<Record<string, unknown>>;
      }
      const closing: string[] = [];
      const tx: Transaction = {
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          this.count++;
          const r = await t.query<R>(sql, params as unknown[]);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
        closing: (script) => {
          this.count++;
          closing.push(script);
        },
      };
      const result = await fn(tx, opened);
      if (closing.length > 0) await t.exec(closing.join('; '));
      return result;
    });
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
