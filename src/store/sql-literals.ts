/** A string as an SQL literal (E'' form, which means the same whatever standard_conforming_strings is). */
export function sqlLiteral(text: string): string {
  return `E'${text.replace(/[\\']/g, (c) => (c === "'" ? "''" : '\\\\'))}'`;
}

/** How long the literals are in all (what the writer compares with INLINE_PARAMETERS_BYTES). */
export function literalBytes(values: readonly string[]): number {
  let n = 0;
  for (const v of values) n += v.length;
  return n;
}

const ARRAY_ESCAPE = /["\\]/g;
const NEEDS_ESCAPE = /["\\]/;

/**
 * A PostgreSQL array literal of the values as text (null and undefined as NULL), what
 * node-postgres sends for a JS array, with one escaping pass and none for a value without `"` or
 * `\`. Sent as the text of a `$n::type[]` parameter, PostgreSQL parses it as pg's own would be.
 */
export function arrayLiteral(values: ReadonlyArray<string | number | null | undefined>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) {
      out += 'NULL';
    } else {
      const text = typeof v === 'string' ? v : String(v);
      out += NEEDS_ESCAPE.test(text) ? `"${text.replace(ARRAY_ESCAPE, '\\$&')}"` : `"${text}"`;
    }
  }
  return out + '}';
}
