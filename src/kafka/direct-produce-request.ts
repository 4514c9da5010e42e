import { buf as crc32c } from 'crc-32/crc32c';
import { bindEncoder, measureRecord, putRecord, Written } from './direct-record-encoder';
import { exportMarked, INSTALLED, modulePath, replaceExport, skipped, type InstallResult } from './module-export';

/**
 * KafkaJS 2.2.4 encodes a produce request in layers: each record into an encoder, the records
 * copied into a record batch body that grows by doubling, the body checksummed byte by byte in
 * JS, copied into the batch, the batch into its partition's encoder, that into its topic's, that
 * into the request's, and the request twice more for its header and size. Most of a produce
 * request's encoding time goes to those copies and the checksum, not to the records themselves.
 *
 * `encodeProduceRequest` writes the same bytes (Produce v3 to v7 share them) into one buffer
 * measured up front, and checksums the batch with crc-32's table-sliced CRC-32C.
 * `encodeRequestFrame` writes the request header and size around the payload in one copy.
 * `installDirectProduceRequest` puts them in place of the exports of KafkaJS's produce v3 request
 * and request framing modules, which KafkaJS requires once, at load: `installKafkaPatches`
 * (`patches.ts`) runs it before KafkaJS loads, from `createKafka`. A compressed produce request is
 * left to KafkaJS. If the modules are not where 2.2.4 has them, nothing is replaced and the
 * install says so. See docs/kafka-patches.md.
 */

interface EncoderLike {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
}
interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}
interface LongClass {
  fromValue(v: unknown): LongLike;
  fromInt(v: number): LongLike;
}

export interface ProduceMessage {
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
  timestamp?: unknown;
}
export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: Array<{ topic: string; partitions: Array<{ partition: number; firstSequence?: number; messages: ProduceMessage[] }> }>;
}
type ProduceRequest = { apiKey: number; apiVersion: number; apiName: string; expectResponse(): boolean; encode(): Promise<EncoderLike> };
type ProduceFactory = (args: ProduceArgs) => ProduceRequest;
type FramingArgs = { correlationId: number; clientId: string | null; request: { apiKey: number; apiVersion: number; encode(): Promise<EncoderLike> } };

const DIRECT = Symbol.for('activity-gateway.direct-produce-request');
/** Where KafkaJS 2.2.4 keeps its produce v3 request (v4 to v7 build on it) and its request framing. */
export const PRODUCE_V3 = 'kafkajs/src/protocol/requests/produce/v3/request';
export const FRAMING = 'kafkajs/src/protocol/request';
const LONG = 'kafkajs/src/utils/long';

/** KafkaJS's Long, as the install found it. */
let Long: LongClass | undefined;

/** Bytes of the record batch before its records (offset, length, epoch, magic, CRC, body header, count). */
const BATCH_HEADER = 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
const MAGIC = 2;
const TRANSACTIONAL = 16;

function putInt64(buf: Buffer, at: number, v: unknown): number {
  const l = Long!.fromValue(v);
  buf.writeInt32BE(l.getHighBits(), at);
  buf.writeInt32BE(l.getLowBits(), at + 4);
  return at + 8;
}

function putString(buf: Buffer, at: number, s: string | null | undefined, len: number): number {
  buf.writeInt16BE(len, at);
  at += 2;
  if (len > 0) buf.write(s!, at, len, 'utf8');
  return at + Math.max(len, 0);
}

const stringLength = (s: string | null | undefined): number => (s === null || s === undefined ? -1 : Buffer.byteLength(s, 'utf8'));

/** An uncompressed Produce v3 request body, byte for byte as KafkaJS 2.2.4 encodes it. */
export function encodeProduceRequest({ acks, timeout, transactionalId = null, producerId, producerEpoch = 0, topicData }: ProduceArgs): EncoderLike {
  const pid = producerId === undefined ? Long!.fromInt(-1) : producerId;
  const attributes = transactionalId ? TRANSACTIONAL : 0;
  const dateNow = Date.now();
  const txLength = stringLength(transactionalId);
  let total = 2 + Math.max(txLength, 0) + 2 + 4 + 4;
  const topics = topicData.map(({ topic, partitions }) => {
    const topicLength = stringLength(topic);
    total += 2 + Math.max(topicLength, 0) + 4;
    const parts = partitions.map(({ partition, firstSequence = 0, messages }) => {
      // As KafkaJS: the first and last of the messages' timestamps as `sort()` orders them, or now.
      const stamps = messages
        .map((m) => m.timestamp)
        .filter((t) => t != null)
        .sort();
      const first = (stamps.length === 0 ? dateNow : stamps[0]) as number;
      const max = stamps.length === 0 ? dateNow : stamps[stamps.length - 1];
      let recordBytes = 0;
      const records = messages.map((m, i) => {
        const r = measureRecord({ offsetDelta: i, timestampDelta: ((m.timestamp as number) || dateNow) - first, key: m.key, value: m.value, headers: m.headers });
        recordBytes += r.total;
        return r;
      });
      total += 4 + 4 + BATCH_HEADER + recordBytes;
      return { partition, firstSequence, first, max, records, recordBytes };
    });
    return { topic, topicLength, parts };
  });

  const buf = Buffer.allocUnsafe(total);
  let at = putString(buf, 0, transactionalId, txLength);
  buf.writeInt16BE(acks, at);
  buf.writeInt32BE(timeout, at + 2);
  buf.writeInt32BE(topics.length, at + 6);
  at += 10;
  for (const t of topics) {
    at = putString(buf, at, t.topic, t.topicLength);
    buf.writeInt32BE(t.parts.length, at);
    at += 4;
    for (const p of t.parts) {
      const batchSize = BATCH_HEADER + p.recordBytes;
      buf.writeInt32BE(p.partition, at);
      buf.writeInt32BE(batchSize, at + 4);
      at += 8;
      at = putInt64(buf, at, 0); // first offset
      buf.writeInt32BE(batchSize - 12, at); // what follows the offset and this length
      buf.writeInt32BE(0, at + 4); // partition leader epoch
      buf[at + 8] = MAGIC;
      const crcAt = at + 9;
      const bodyAt = at + 13;
      at = bodyAt;
      buf.writeInt16BE(attributes, at);
      buf.writeInt32BE(p.records.length - 1, at + 2); // last offset delta
      at = putInt64(buf, at + 6, p.first);
      at = putInt64(buf, at, p.max);
      at = putInt64(buf, at, pid);
      buf.writeInt16BE(producerEpoch, at);
      buf.writeInt32BE(p.firstSequence, at + 2);
      buf.writeInt32BE(p.records.length, at + 6);
      at += 10;
      for (const r of p.records) at = putRecord(buf, at, r);
      buf.writeUInt32BE(crc32c(buf.subarray(bodyAt, at)) >>> 0, crcAt);
    }
  }
  return new Written(buf, at);
}

/** A request as KafkaJS frames it: size, API key and version, correlation id, client id, payload. */
export async function encodeRequestFrame({ correlationId, clientId, request: { apiKey, apiVersion, encode } }: FramingArgs): Promise<EncoderLike> {
  const payload = await encode();
  if (payload == null || !Buffer.isBuffer(payload.buf)) throw new Error('value should be an instance of Encoder');
  const clientIdLength = stringLength(clientId);
  const size = 2 + 2 + 4 + 2 + Math.max(clientIdLength, 0) + payload.offset;
  const buf = Buffer.allocUnsafe(4 + size);
  buf.writeInt32BE(size, 0);
  buf.writeInt16BE(apiKey, 4);
  buf.writeInt16BE(apiVersion, 6);
  buf.writeInt32BE(correlationId, 8);
  const at = putString(buf, 12, clientId, clientIdLength);
  payload.buf.copy(buf, at, 0, payload.offset);
  return new Written(buf, 4 + size);
}
Object.defineProperty(encodeRequestFrame, DIRECT, { value: true });

/** KafkaJS's produce v3 request with the direct encoding where there is no compression. */
export function directProduceRequestOf(original: ProduceFactory): ProduceFactory {
  const direct = (args: ProduceArgs): ProduceRequest => {
    const request = original(args);
    if ((args.compression ?? 0) !== 0) return request;
    return { ...request, encode: async () => encodeProduceRequest(args) };
  };
  Object.defineProperty(direct, DIRECT, { value: true });
  return direct;
}

/** Whether KafkaJS's produce v3 request and request framing are the direct ones now. */
export function directProduceRequestInstalled(): boolean {
  return exportMarked(PRODUCE_V3, DIRECT) && exportMarked(FRAMING, DIRECT);
}

/**
 * Puts the direct encodings in place of the produce v3 request of `target` and KafkaJS's request
 * framing, once; says whether both are in place (neither is replaced unless both can be).
 */
export function installDirectProduceRequest(target = PRODUCE_V3): InstallResult {
  const longPath = modulePath(LONG);
  if (longPath === undefined) return skipped(`${LONG} not found`);
  const FoundLong = require(longPath) as Partial<LongClass> | undefined;
  if (typeof FoundLong?.fromValue !== 'function' || typeof FoundLong.fromInt !== 'function') return skipped(`${LONG} does not look like KafkaJS 2.2.4's Long`);
  const bound = bindEncoder();
  if (!bound.installed) return bound;
  for (const name of [target, FRAMING]) if (modulePath(name) === undefined) return skipped(`${name} not found`);
  Long = FoundLong as LongClass;
  const produce = replaceExport(target, DIRECT, (original: ProduceFactory) => directProduceRequestOf(original));
  if (!produce.installed) return produce;
  const framing = replaceExport(FRAMING, DIRECT, () => encodeRequestFrame);
  return framing.installed ? INSTALLED : framing;
}
