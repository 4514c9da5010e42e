import { EnvError, makeExactValidator } from 'envalid';

/**
 * The kinds of environment variable the configuration reads, as envalid validators: each parses
 * the raw text or throws an EnvError saying what was expected. Ranges and lists are the
 * gateway's own; reading, defaults and reporting every bad variable are envalid's.
 */

/** An integer in [min, max]. */
export const integer = (min: number, max: number) =>
  makeExactValidator<number>((raw) => {
    if (!/^-?\d+$/.test(raw)) throw new EnvError(`expected an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new EnvError(`must be between ${min} and ${max}, got ${n}`);
    return n;
  });

/** A finite number in [min, max]. */
export const decimal = (min: number, max: number) =>
  makeExactValidator<number>((raw) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new EnvError(`expected a number between ${min} and ${max}, got "${raw}"`);
    return n;
  });

export const flag = makeExactValidator<boolean>((raw) => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new EnvError(`expected true or false, got "${raw}"`);
});

export const text = makeExactValidator<string>((raw) => raw);

/** One of `choices`, case-insensitive; the value is the choice as written there. */
export const oneOf = <T extends string>(choices: readonly T[]) =>
  makeExactValidator<T>((raw) => {
    const found = choices.find((c) => c.toLowerCase() === raw.toLowerCase());
    if (found === undefined) throw new EnvError(`expected one of ${choices.join(', ')}, got "${raw}"`);
    return found;
  });

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
export const topicName = makeExactValidator<string>((raw) => {
  if (!TOPIC_NAME.test(raw) || raw === '.' || raw === '..') {
    throw new EnvError(`"${raw}" is not a legal Kafka topic name (letters, digits, '.', '_', '-')`);
  }
  return raw;
});

const splitList = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** A comma-separated list; blank entries are dropped. */
export const list = makeExactValidator<string[]>(splitList);

export const brokerList = makeExactValidator<string[]>((raw) => {
  const brokers = splitList(raw);
  if (brokers.length === 0) throw new EnvError('is empty');
  for (const b of brokers) {
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new EnvError(`"${b}" is not host:port`);
  }
  return brokers;
});

/** A non-empty comma-separated list of distinct names from `choices`. */
export const setOf = <T extends string>(choices: readonly T[]) =>
  makeExactValidator<Set<T>>((raw) => {
    const set = new Set<T>();
    for (const part of splitList(raw)) {
      if (!(choices as readonly string[]).includes(part)) throw new EnvError(`unknown value "${part}" (expected ${choices.join(', ')})`);
      set.add(part as T);
    }
    if (set.size === 0) throw new EnvError('names nothing');
    return set;
  });

export const postgresUrl = makeExactValidator<string>((raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EnvError('is not a URL (expected postgres://user@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new EnvError(`expected a postgres:// URL, got ${url.protocol}//`);
  return raw;
});
