/**
 * Opaque cursors: a position in processing order (`seq`), base64url-encoded with a kind tag so a
 * cursor of one list is not accepted by another.
 */
export type CursorKind = 'ev' | 'fe' | 'fa';

export function encodeCursor(kind: CursorKind, seq: number): string {
  return Buffer.from(`${kind}:${seq}`, 'utf8').toString('base64url');
}

/** The seq in a cursor of `kind`, or null when the text is not such a cursor. */
export function decodeCursor(kind: CursorKind, cursor: string): number | null {
  if (cursor.length > 64) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^([a-z]{2}):(\d{1,18})$/.exec(text);
  if (!m || m[1] !== kind) return null;
  const seq = Number(m[2]);
  return Number.isSafeInteger(seq) ? seq : null;
}
