import { LRUCache } from 'lru-cache';

/**
 * A bounded map that forgets the least recently used entry past its capacity. Backed by
 * `lru-cache`: a JavaScript Map used as an LRU (delete and re-insert on use, drop the first key
 * when full) slows down badly once full, because every `keys().next()` walks the holes that the
 * deletions leave at the front (docs/dependencies.md).
 */
export class Lru<K extends {}, V extends {}> {
  private readonly cache: LRUCache<K, V>;

  constructor(capacity: number) {
    this.cache = new LRUCache<K, V>({ max: capacity });
  }

  get(key: K): V | undefined {
    return this.cache.get(key);
  }

  set(key: K, value: V): void {
    this.cache.set(key, value);
  }

  delete(key: K): void {
    this.cache.delete(key);
  }

  get size(): number {
    return this.cache.size;
  }
}
