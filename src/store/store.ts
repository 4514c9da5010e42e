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
  /**
   * Named statements the opening or a closing script runs with `EXECUTE name(…)`: each is
   * prepared on a connection the first time a transaction there needs it (in the same round
   * trip), so PostgreSQL parses and plans it once per connection rather than once per use.
   */
  prepare?: Readonly<Record<string, string>>;
}

/** A transaction's statements. */
export interface Transaction extends Queryable {
  /**
   * Queues a script of statements without parameters to run in the COMMIT's round trip, right
   * before COMMIT (after every `query`); an error in it rolls the transaction back.
   */
  closing(script: string): void;
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
   * What `fn` hands to `tx.closing` goes with the COMMIT: a transaction of an opening, one
   * closing and nothing else is two round trips.
   */
  transaction<T>(fn: (tx: Transaction, opened: Array<Record<string, unknown>>) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Statements run since start: lets tests assert that a request costs a constant number. */
  readonly statements: number;
  close(): Promise<void>;
}
