import type { StoredEvent } from '../domain/processed-event';
import DataLoader from 'dataloader';
import type { ProfileState } from '../domain/profile';
import type { StoredAlert } from '../store/rows';
import { recentAlertsOf } from '../store/alert-queries';
import { recentEventsOf } from '../store/event-queries';
import { profilesByIds } from '../store/profile-queries';
import type { Queryable } from '../store';

/** Per-request batching of parent lookups: one statement per kind, whatever the page size. */
export interface Loaders {
  profile: DataLoader<string, ProfileState | null>;
  recentEvents: DataLoader<{ userId: string; first: number }, StoredEvent[], string>;
  recentAlerts: DataLoader<{ userId: string; first: number }, StoredAlert[], string>;
}

/** Batches "the newest `first` of each user" lookups: one statement per distinct page size. */
function perUserPages<V>(load: (ids: string[], first: number) => Promise<Map<string, V[]>>): DataLoader<{ userId: string; first: number }, V[], string> {
  return new DataLoader(
    async (keys) => {
      const bySize = new Map<number, string[]>();
      for (const k of keys) bySize.set(k.first, [...(bySize.get(k.first) ?? []), k.userId]);
      const results = new Map<number, Map<string, V[]>>();
      for (const [first, ids] of bySize) results.set(first, await load(ids, first));
      return keys.map((k) => results.get(k.first)!.get(k.userId) ?? []);
    },
    { cacheKeyFn: (k) => `${k.first}:${k.userId}` },
  );
}

/** Made in the context factory for every request (never shared across requests). */
export function createLoaders(db: Queryable): Loaders {
  return {
    profile: new DataLoader(async (ids) => {
      const found = await profilesByIds(db, ids);
      return ids.map((id) => found.get(id) ?? null);
    }),
    recentEvents: perUserPages((ids, first) => recentEventsOf(db, ids, first)),
    recentAlerts: perUserPages((ids, first) => recentAlertsOf(db, ids, first)),
  };
}
