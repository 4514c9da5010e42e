import './pooled-encoder'; // the Encoder this writes into

/**
 * KafkaJS 2.2.4 encodes a produced record by building an array of `{key, value}` header objects,
 * one `Encoder` per header, and an `Encoder` for the record that starts at 512 bytes and grows by
 * copying; the encoders of the headers are then copied into it. Every event the gateway records
 * and every event the processor publishes has three headers: in a profile of processing, record
 * encoding was 15% of the processor's CPU, its headers alone 6%. In alternating runs of batched
 * ingest (CPU-bound in the gateway) `recordActivities` went from 33,500–34,600 to 37,200–38,400
 * events/s with this, `POST /v1/events` from 47,200–48,100 to 47,900–57,300.
 *
 * `encodeRecord` writes the same bytes (record length, attributes, timestamp and offset deltas,
 * key, value, header count, then each header's key and value) into one encoder sized for them up
 * front. `installDirectRecordEncoder` puts it in place of that module's export; it must run before
 * KafkaJS's produce request module loads (it requires the module once, at load), so the modules of
 * this folder that load KafkaJS import this one first. If the module is not where 2.2.4 has it,
 * nothing is replaced.
 */

interface EncoderLike {
  buffer: Buffer;
  writeVarInt(v: number): EncoderLike;
  writeInt8(v: number): EncoderLike;
  writeVarLong(v: unknown): EncoderLike;
  writeVarIntBytes(v: unknown): EncoderLike;
  writeVarIntString(v: string): EncoderLike;
}
interface EncoderClass {
  new (initialSize?: number): EncoderLike;
  sizeOfVarInt(v: number): number;
  sizeOfVarLong(v: unknown): number;
  sizeOfVarIntBytes(v: unknown): number;
}

export interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key: unknown;
  value: unknown;
  headers?: Record<string, unknown>;
}

const DIRECT = Symbol.for('activity-gateway.direct-record-encoder');

function modulePath(name: string): string | undefined {
  try {
    return require.resolve(name);
  } catch {
    return undefined;
  }
}

const Encoder = (() => {
  const path = modulePath('kafkajs/src/protocol/encoder');
  return path ? (require(path) as EncoderClass) : undefined;
})();

/** One record as KafkaJS's Record v0 encodes it, in a single encoder. */
export function encodeRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordArgs): EncoderLike {
  const E = Encoder!;
  // Headers in KafkaJS's order: each key once, or once per value of an array.
  const keys: string[] = [];
  const values: unknown[] = [];
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (Array.isArray(v)) {
      for (const x of v) {
        keys.push(k);
        values.push(x);
      }
    } else {
      keys.push(k);
      values.push(v);
    }
  }
  let sizeOfHeaders = E.sizeOfVarInt(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const keySize = Buffer.byteLength(keys[i]!);
    const valueSize = Buffer.byteLength(values[i] as string); // throws on a null value, as KafkaJS's does
    sizeOfHeaders += E.sizeOfVarInt(keySize) + keySize + E.sizeOfVarInt(valueSize) + valueSize;
  }
  const sizeOfBody = 1 + E.sizeOfVarLong(timestampDelta) + E.sizeOfVarInt(offsetDelta) + E.sizeOfVarIntBytes(key) + E.sizeOfVarIntBytes(value) + sizeOfHeaders;
  const e = new E(E.sizeOfVarInt(sizeOfBody) + sizeOfBody)
    .writeVarInt(sizeOfBody)
    .writeInt8(0) // no record attributes
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarInt(keys.length);
  for (let i = 0; i < keys.length; i++) e.writeVarIntString(keys[i]!).writeVarIntBytes(values[i]);
  return e;
}
Object.defineProperty(encodeRecord, DIRECT, { value: true });

const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0';

/** Whether KafkaJS's Record v0 export is `encodeRecord` now. */
export function directRecordEncoderInstalled(): boolean {
  const path = modulePath(RECORD);
  return path !== undefined && (require.cache[path]?.exports as Record<symbol, unknown> | undefined)?.[DIRECT] === true;
}

/** Replaces KafkaJS's Record v0 export by `encodeRecord`, once; a no-op where that cannot be done. */
export function installDirectRecordEncoder(): void {
  const path = modulePath(RECORD);
  if (path === undefined || !Encoder || typeof Encoder.sizeOfVarLong !== 'function') return;
  const original = require(path) as unknown;
  const entry = require.cache[path];
  if (!entry || entry.exports !== original || typeof original !== 'function' || (original as unknown as Record<symbol, unknown>)[DIRECT]) return;
  entry.exports = encodeRecord;
}

installDirectRecordEncoder();
