/**
 * What the KafkaJS patches of this folder share: an internal module of KafkaJS 2.2.4 whose export
 * is replaced in Node's module cache before the KafkaJS modules that require it load. Each
 * replacement carries a marker symbol, so it is installed once and tests can ask whether it is.
 * If a KafkaJS upgrade moves the module, nothing is replaced.
 */

/** Where a module resolves from this folder, or undefined when it is not there. */
export function modulePath(name: string): string | undefined {
  try {
    return require.resolve(name);
  } catch {
    return undefined;
  }
}

/** Whether the cached export of `name` carries `marker` (is the replacement). */
export function exportMarked(name: string, marker: symbol): boolean {
  const path = modulePath(name);
  return path !== undefined && (require.cache[path]?.exports as Record<symbol, unknown> | undefined)?.[marker] === true;
}

/**
 * Loads `name` (so it is cached before other KafkaJS modules require it) and puts `make(original)`
 * in place of its export. A no-op when the module is not there, its export is not a function, is
 * already marked with `marker`, or `accept(original)` says it does not look as expected.
 */
export function replaceExport<T>(name: string, marker: symbol, make: (original: T) => unknown, accept: (original: T) => boolean = () => true): void {
  const path = modulePath(name);
  if (path === undefined) return;
  const original = require(path) as unknown;
  const entry = require.cache[path];
  if (!entry || entry.exports !== original || typeof original !== 'function' || (original as unknown as Record<symbol, unknown>)[marker]) return;
  if (!accept(original as T)) return;
  entry.exports = make(original as T);
}
