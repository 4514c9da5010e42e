import { exportMarked, INSTALLED, modulePath, replaceExport, skipped, type InstallResult } from './module-export';
import { ENCODER } from './pooled-encoder';

/**
 * KafkaJS 2.2.4 encodes a produced record by building an array of `{key, value}` header objects,
 * one `Encoder` per header, and an `Encoder` for the record that starts at 512 bytes and grows by
 * copying; the encoders of the headers are then copied into it, and every varint goes through an
 * array and a `Buffer.from` of its own. Every event the gateway records and every event the
 * processor publishes has three headers, so that per-header work is paid on every record.
 *
 * `measureRecord` sizes a record's parts once and `putRecord` writes the same bytes (record
 * length, attributes, timestamp and offset deltas, key, value, header count, then each header's
 * key and value) at a given place: the direct produce request (`direct-produce-request.ts`)
 * writes every record of a request into its one buffer that way. `encodeRecord`, a record in a
 * buffer of its own, takes the place of KafkaJS's Record v0 export (`installDirectRecordEncoder`)
 * for what still goes through KafkaJS's record batch: compressed produce requests. It is
 * installed before KafkaJS's record batch module loads (that requires it once, at load), by
 * `installKafkaPatches` (`patches.ts`), from `createKafka`, after the pooled encoder, whose
 * Encoder this then takes. If the module is not where 2.2.4 has it, nothing is replaced and the
 * install says so. See docs/kafka-patches.md.
 */

interface EncoderLike {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  writeVarLong(v: unknown): EncoderLike;
}
interface EncoderClass {
  new (initialSize?: number): EncoderLike;
  prototype: EncoderLike;
  sizeOfVarLong(v: unknown): number;
}

export interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key: unknown;
  value: unknown;
  headers?: Record<string, unknown>;
}

const DIRECT = Symbol.for('activity-gateway.direct-record-encoder');

/** KafkaJS's Encoder as the install found it (the pooled one when that installed first). */
let Encoder: EncoderClass | undefined;

function WrittenEncoder(this: EncoderLike, buf: Buffer, offset: number): void {
  this.buf = buf;
  this.offset = offset;
}

/**
 * An encoder over bytes already written: KafkaJS's Encoder methods and `instanceof Encoder` (its
 * prototype is the Encoder's from the install on), no allocation of its own (the record batch
 * reads `buf` and `buffer`).
 */
export const Written = WrittenEncoder as unknown as new (buf: Buffer, offset: number) => EncoderLike;

// KafkaJS's varints: zig-zag over 32 bits, then 7 bits a byte, low first (Encoder.writeVarInt).
const zigZag = (v: number): number => (v << 1) ^ (v >> 31);
function sizeOfUVarInt(z: number): number {
  let n = 1;
  while ((z & 0xffffff80) !== 0) {
    n += 1;
    z >>>= 7;
  }
  return n;
}
function putUVarInt(buf: Buffer, at: number, z: number): number {
  while ((z & 0xffffff80) !== 0) {
    buf[at++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[at++] = z & 0x7f;
  return at;
}

/** Byte length of a bytes field as KafkaJS sizes it (-1 for none); throws where it throws (a number, say). */
const bytesLength = (v: unknown): number => (v === null || v === undefined ? -1 : Buffer.byteLength(v as string));
const sizeOfBytes = (len: number): number => sizeOfUVarInt(zigZag(len)) + Math.max(len, 0);
function putBytes(buf: Buffer, at: number, v: unknown, len: number): number {
  at = putUVarInt(buf, at, zigZag(len));
  if (len <= 0) return at;
  if (Buffer.isBuffer(v)) v.copy(buf, at);
  else buf.write(String(v), at, len, 'utf8');
  return at + len;
}

/** A record's parts with their sizes, measured once: what `putRecord` writes. */
export interface MeasuredRecord {
  /** Bytes of the record with its length prefix. */
  total: number;
  size: number;
  delta: Buffer | number;
  offsetDelta: number;
  key: unknown;
  keyLength: number;
  value: unknown;
  valueLength: number;
  headerKeys: string[];
  headerValues: unknown[];
  headerKeyLengths: number[];
  headerValueLengths: number[];
}

/**
 * Sizes one record as KafkaJS's Record v0 encodes it (length, attributes, timestamp and offset
 * deltas, key, value, header count, then each header's key and value). A timestamp delta outside
 * ±2^30 or not a number (a Long) is encoded by KafkaJS's own 64-bit varint. Throws where KafkaJS
 * throws (a header without a value, a number as key or value, a fractional delta).
 */
export function measureRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordArgs): MeasuredRecord {
  // Headers in KafkaJS's order: each key once, or once per value of an array.
  const headerKeys: string[] = [];
  const headerValues: unknown[] = [];
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (Array.isArray(v)) {
      for (const x of v) {
        headerKeys.push(k);
        headerValues.push(x);
      }
    } else {
      headerKeys.push(k);
      headerValues.push(v);
    }
  }
  const n = headerKeys.length;
  const headerKeyLengths: number[] = new Array(n);
  const headerValueLengths: number[] = new Array(n);
  let size = sizeOfUVarInt(zigZag(n));
  for (let i = 0; i < n; i++) {
    const k = Buffer.byteLength(headerKeys[i]!);
    const v = Buffer.byteLength(headerValues[i] as string); // throws on a null value, as KafkaJS's does
    headerKeyLengths[i] = k;
    headerValueLengths[i] = v;
    size += sizeOfBytes(k) + sizeOfBytes(v);
  }
  const small = typeof timestampDelta === 'number' && Number.isInteger(timestampDelta) && timestampDelta >= -(2 ** 30) && timestampDelta < 2 ** 30;
  const delta = small ? (timestampDelta as number) : new Encoder!(16).writeVarLong(timestampDelta).buffer;
  const keyLength = bytesLength(key);
  const valueLength = bytesLength(value);
  size +=
    1 + // attributes
    (typeof delta === 'number' ? sizeOfUVarInt(zigZag(delta)) : delta.length) +
    sizeOfUVarInt(zigZag(offsetDelta)) +
    sizeOfBytes(keyLength) +
    sizeOfBytes(valueLength);
  const total = sizeOfUVarInt(zigZag(size)) + size;
  return { total, size, delta, offsetDelta, key, keyLength, value, valueLength, headerKeys, headerValues, headerKeyLengths, headerValueLengths };
}

/** Writes a measured record at `at`; returns where it ends. */
export function putRecord(buf: Buffer, at: number, r: MeasuredRecord): number {
  at = putUVarInt(buf, at, zigZag(r.size));
  buf[at++] = 0; // no record attributes
  if (typeof r.delta === 'number') at = putUVarInt(buf, at, zigZag(r.delta));
  else at += r.delta.copy(buf, at);
  at = putUVarInt(buf, at, zigZag(r.offsetDelta));
  at = putBytes(buf, at, r.key, r.keyLength);
  at = putBytes(buf, at, r.value, r.valueLength);
  const n = r.headerKeys.length;
  at = putUVarInt(buf, at, zigZag(n));
  for (let i = 0; i < n; i++) {
    at = putBytes(buf, at, r.headerKeys[i], r.headerKeyLengths[i]!);
    at = putBytes(buf, at, r.headerValues[i], r.headerValueLengths[i]!);
  }
  return at;
}

/** One record as KafkaJS's Record v0 encodes it, written straight into one buffer of its exact size. */
export function encodeRecord(args: RecordArgs): EncoderLike {
  const r = measureRecord(args);
  const buf = Buffer.allocUnsafe(r.total);
  return new Written(buf, putRecord(buf, 0, r));
}
Object.defineProperty(encodeRecord, DIRECT, { value: true });

/** Where KafkaJS 2.2.4 keeps its Record v0 encoding. */
export const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0';

/** Whether KafkaJS's Record v0 export is `encodeRecord` now. */
export function directRecordEncoderInstalled(): boolean {
  return exportMarked(RECORD, DIRECT);
}

/**
 * Takes KafkaJS's Encoder (the pooled one once that is installed) for `Written` and 64-bit
 * varints: the direct record encoding and the direct produce request both need it.
 */
export function bindEncoder(): InstallResult {
  const path = modulePath(ENCODER);
  if (path === undefined) return skipped(`${ENCODER} not found`);
  const found = require(path) as ((new () => unknown) & { sizeOfVarLong?: unknown; prototype?: { writeVarLong?: unknown } }) | undefined;
  if (typeof found !== 'function' || typeof found.sizeOfVarLong !== 'function' || typeof found.prototype?.writeVarLong !== 'function') {
    return skipped(`${ENCODER} does not look like KafkaJS 2.2.4's Encoder`);
  }
  Encoder = found as unknown as EncoderClass;
  WrittenEncoder.prototype = Encoder.prototype;
  return INSTALLED;
}

/** Replaces the Record v0 export of `target` (KafkaJS's) by `encodeRecord`, once; says whether it is in place. */
export function installDirectRecordEncoder(target = RECORD): InstallResult {
  const bound = bindEncoder();
  return bound.installed ? replaceExport(target, DIRECT, () => encodeRecord) : bound;
}
