/** Rows and count of one statement. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs SQL with positional parameters ($1, $2, …). */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface TransactionOptions {
  opening?: string;
}

/**
 * The database the gateway needs: PostgreSQL through `pg`, or embedded PostgreSQL (PGlite).
 * Both speak the same SQL and run the same migrations.
 */
export interface Store extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * `opening`, a script of statements without parameters, runs right after BEGIN in the same
   * round trip (each statement with a snapshot of its own); `fn` gets the rows of its last one.
   */
  transaction<T>(fn: (tx: Queryable, opened: Array<Record<string, unknown>>) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Statements run since start: lets tests assert that a request costs a constant number. */
  readonly statements: number;
  close(): Promise<void>;
}
