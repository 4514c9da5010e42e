import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { waitFor, type Leftovers } from './harness';

export interface Collected {
  results: Array<{ data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> }>;
  completed: boolean;
  error: unknown;
  /** Waits until `n` results arrived (or fails at the deadline). */
  until(n: number, timeoutMs?: number): Promise<void>;
  /** Data of the results so far, under `field`. */
  data(field: string): any[];
  dispose(): void;
}

/** A graphql-ws client for `url` with `token` in connection_init, disposed with the leftovers. */
export function wsClient(leftovers: Leftovers, url: string, token: string, onClosed?: (code: number) => void): Client {
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (e) => onClosed?.((e as { code: number }).code) },
  });
  leftovers.add(() => client.dispose());
  return client;
}

/** Subscribes and collects every result in the background. */
export function collect(client: Client, query: string, variables: Record<string, unknown> = {}): Collected {
  const c: Collected = {
    results: [],
    completed: false,
    error: undefined,
    until: async (n, timeoutMs = 20_000) => {
      await waitFor(() => (c.results.length >= n ? true : c.error ? Promise.reject(c.error) : undefined), timeoutMs, `${n} subscription results (got ${c.results.length})`);
    },
    data: (field) => c.results.filter((r) => r.data).map((r) => r.data[field]),
    dispose: () => unsubscribe(),
  };
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (r) => void c.results.push(r as Collected['results'][number]),
      error: (e) => {
        c.error = e;
      },
      complete: () => {
        c.completed = true;
      },
    },
  );
  return c;
}
