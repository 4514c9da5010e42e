import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../config';

/** What a role's thread starts from. */
export interface RoleThreadData {
  config: Config;
  storeSchema?: string;
}

/** What the main thread tells a role's thread. */
export type ToRoleThread = { type: 'stop' } | { type: 'metrics'; id: number };

/** What a role's thread tells the main thread. */
export type FromRoleThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] };
