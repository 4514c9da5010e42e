import type { Config, ProcessRole } from '../config';

/**
 * Which roles run on the thread that serves clients and which in a thread of their own. With the
 * gateway role and ROLE_THREADS on (the default), the processor and fraud roles go to a thread,
 * so that their work does not delay requests, each thread with its own PostgreSQL connections
 * and Kafka clients. A process without the gateway role serves no one and keeps its roles on its
 * main thread, and so does one on the embedded store.
 */
export function placeRoles(config: Pick<Config, 'roles' | 'roleThreads' | 'databaseUrl'>): { main: ProcessRole[]; thread: ProcessRole[] } {
  const workers = (['processor', 'fraud'] as const).filter((r) => config.roles.has(r));
  // The embedded store is one connection owned by one thread: with it, every role stays on this one.
  const sharedStore = config.databaseUrl !== undefined;
  if (config.roleThreads && sharedStore && config.roles.has('gateway') && workers.length > 0) return { main: ['gateway'], thread: workers };
  return { main: [...config.roles], thread: [] };
}
