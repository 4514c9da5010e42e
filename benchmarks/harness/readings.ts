/** A reading of counters that only grow (CPU seconds, requests made): what happened between two is their difference. */
export type Counters = Record<string, number>;

/** `after - before`, counter by counter. */
export function since<T extends Counters>(before: T, after: T): T {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!])) as T;
}

/** The sum of two deltas, counter by counter (for a figure measured in several rounds); `a` may be none yet. */
export function plus<T extends Counters>(a: T | undefined, b: T): T {
  return a ? (Object.fromEntries(Object.keys(b).map((k) => [k, a[k]! + b[k]!])) as T) : b;
}
