import pg from 'pg';
import { InfrastructureError } from '../errors';
import type { QueryResult, Store, Transaction, TransactionOptions } from './store';

// BIGINT and NUMERIC arrive as strings by default; counts fit a JS number, offsets stay strings in SQL.
pg.types.setTypeParser(20, (v) => Number(v)); // int8
pg.types.setTypeParser(1700, (v) => Number(v)); // numeric

export interface PgStoreOptions {
  url: string;
  /** Schema to use as search_path (tests use a throwaway schema per suite). */
  schema?: string;
  maxConnections?: number;
}

/** Error codes from PostgreSQL that a retry may get past (connection loss, serialization, deadlock). */
const RETRIABLE_SQLSTATE = /^(08|40001|40P01|57P0[123]|53300)/;

function wrap(err: unknown): never {
  const code = (err as { code?: string }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !RETRIABLE_SQLSTATE.test(code)) throw err;
  throw new InfrastructureError(`PostgreSQL: ${(err as Error).message}`, true, { cause: err });
}

/** PostgreSQL through a `pg` pool. */
export class PgStore implements Store {
  /** Per connection: the statements prepared there (see TransactionOptions.prepare). */
  private readonly prepared = new WeakMap<pg.PoolClient, Set<string>>();
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private count = 0;

  constructor(options: PgStoreOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  get statements(): number {
    return this.count;
  }

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    this.count++;
    try {
      const r = await this.pool.query(sql, params as unknown[]);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    } catch (err) {
      wrap(err);
    }
  }

  async exec(sql: string): Promise<void> {
    this.count++;
    try {
      await this.pool.query(sql);
    } catch (err) {
      wrap(err);
    }
  }

  async transaction<T>(fn: (tx: Transaction, opened: Array<Record<string, unknown>>) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      wrap(err);
    }
    const closing: string[] = [];
    const tx: Transaction = {
      query: async <R>(sql: string, params: readonly unknown[] = []) => {
        this.count++;
        const r = await client.query(sql, params as unknown[]);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      },
      closing: (script) => {
        this.count++;
        closing.push(script);
      },
    };
    try {
      let opened: Array<Record<string, unknown>> = [];
      if (options.opening) {
        this.count++;
        // What this connection has not prepared yet goes first (prepared statements are the
        // session's and outlive a rollback; a failure below discards the connection anyway).
        let known = this.prepared.get(client);
        if (!known) this.prepared.set(client, (known = new Set()));
        const missing = Object.entries(options.prepare ?? {}).filter(([name]) => !known.has(name));
        const prepare = missing.map(([name, sql]) => `PREPARE ${name} AS ${sql}; `).join('');
        // One simple-protocol round trip: BEGIN and the opening statements, results in order.
        const results = (await client.query(`${prepare}BEGIN; ${options.opening}`)) as unknown as pg.QueryResult[];
        for (const [name] of missing) known.add(name);
        opened = results.at(-1)!.rows as Array<Record<string, unknown>>;
      } else {
        await client.query('BEGIN');
      }
      const result = await fn(tx, opened);
      // The closing scripts and COMMIT in one round trip: an error in a script skips the rest,
      // COMMIT included, and the catch below rolls back.
      await client.query(closing.length > 0 ? `${closing.join('; ')}; COMMIT` : 'COMMIT');
      client.release();
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      wrap(err);
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
