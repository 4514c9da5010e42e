import DataLoader from 'dataloader';
import type { ProfileState } from '../domain/profile';
import type { StoredEvent } from '../store/activity-store';
import { profilesByIds, recentEventsOf } from '../store/read-queries';
import type { Queryable } from '../store';

/** Per-request batching of parent lookups: one statement per kind, whatever the page size. */
export interface Loaders {
  profile: DataLoader<string, ProfileState | null>;
  recentEvents: DataLoader<{ userId: string; first: number }, StoredEvent[], string>;
}

/** Made in the context factory for every request (never shared across requests). */
export function createLoaders(db: Queryable): Loaders {
  return {
    profile: new DataLoader(async (ids) => {
      const found = await profilesByIds(db, ids);
      return ids.map((id) => found.get(id) ?? null);
    }),
    recentEvents: new DataLoader(
      async (keys) => {
        // One statement per distinct page size (in practice one).
        const bySize = new Map<number, string[]>();
        for (const k of keys) bySize.set(k.first, [...(bySize.get(k.first) ?? []), k.userId]);
        const results = new Map<number, Map<string, StoredEvent[]>>();
        for (const [first, ids] of bySize) results.set(first, await recentEventsOf(db, ids, first));
        return keys.map((k) => results.get(k.first)!.get(k.userId) ?? []);
      },
      { cacheKeyFn: (k) => `${k.first}:${k.userId}` },
    ),
  };
}
