/**
 * What the KafkaJS patches of this folder share: an internal module of KafkaJS 2.2.4 whose export
 * is replaced in Node's module cache before the KafkaJS modules that require it load. Each
 * replacement carries a marker symbol, so it is installed once and start-up can ask whether it
 * is. If a KafkaJS upgrade moves the module or changes its shape, nothing is replaced and the
 * install says why.
 */

/** What installing one patch did: in place now, or not, and why not. */
export type InstallResult = { installed: true } | { installed: false; reason: string };

export const INSTALLED: InstallResult = { installed: true };
export const skipped = (reason: string): InstallResult => ({ installed: false, reason });

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
 * Whether KafkaJS's entry module has run. Its modules take their dependencies once, as they load:
 * a replacement installed after that would report itself in place while KafkaJS kept using the
 * original.
 */
export function kafkajsLoaded(): boolean {
  const path = modulePath('kafkajs');
  return path !== undefined && require.cache[path] !== undefined;
}

/**
 * Loads `name` (so it is cached before other KafkaJS modules require it) and puts `make(original)`
 * in place of its export. Installed when it is in place now (also when it already was); skipped
 * when the module is not there, KafkaJS has loaded already, its export is not a function, or
 * `accept(original)` says it does not look as expected (and then why).
 */
export function replaceExport<T>(
  name: string,
  marker: symbol,
  make: (original: T) => unknown,
  accept: (original: T) => string | undefined = () => undefined,
): InstallResult {
  const path = modulePath(name);
  if (path === undefined) return skipped(`${name} not found`);
  if (exportMarked(name, marker)) return INSTALLED;
  if (kafkajsLoaded()) return skipped('KafkaJS was loaded before the patches were installed');
  const original = require(path) as unknown;
  const entry = require.cache[path];
  if (!entry || entry.exports !== original) return skipped(`${name} is not in the module cache`);
  if (typeof original !== 'function') return skipped(`${name} does not export a function`);
  const rejected = accept(original as T);
  if (rejected !== undefined) return skipped(rejected);
  entry.exports = make(original as T);
  return INSTALLED;
}
