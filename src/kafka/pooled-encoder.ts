import { exportMarked, replaceExport, type InstallResult } from './module-export';

/**
 * KafkaJS encodes every record, every record header and every request into an `Encoder` that
 * starts from a zero-filled 512-byte `Buffer.alloc` and grows by allocating and copying again.
 * Producing a batch therefore allocates and zero-fills hundreds of bytes per record outside
 * Node's buffer pool, and the garbage collector then has to reclaim every one of those buffers.
 *
 * An encoder only ever exposes the bytes it wrote: every write goes at `offset` and advances it,
 * and `buffer` is the slice before `offset`. So the zero fill is never observed, and
 * `Buffer.allocUnsafe` (which hands out small buffers from Node's shared pool) is enough.
 * `installPooledEncoder` puts a constructor doing that in place of KafkaJS's `Encoder` export,
 * sharing its prototype (methods, `instanceof`) and statics. KafkaJS's modules take the Encoder
 * once, as they load, so this must run before KafkaJS is first loaded: `installKafkaPatches`
 * (`patches.ts`) runs it, from `createKafka`. Listed with its upstream status in
 * docs/kafka-patches.md.
 *
 * KafkaJS is pinned (package.json), and this depends on its internals: if the module is not where
 * 2.2.4 has it, or does not look like that Encoder, nothing is replaced, KafkaJS works as shipped
 * and the install says why.
 */

/** The parts of KafkaJS's Encoder this relies on. */
interface EncoderLike {
  buf: Buffer;
  offset: number;
}
type EncoderClass = { prototype: EncoderLike; nextPowerOfTwo(n: number): number } & (new (initialSize?: number) => EncoderLike);

const POOLED = Symbol.for('activity-gateway.pooled-encoder');

/** Where KafkaJS 2.2.4 keeps its Encoder. */
export const ENCODER = 'kafkajs/src/protocol/encoder';

/**
 * A constructor that behaves as `Original` but allocates from the pool: its prototype inherits
 * every method of `Original`'s (so its instances are `instanceof Original`) and overrides
 * `ensureAvailable`; its statics are `Original`'s.
 */
export function pooledEncoderOf(Original: EncoderClass): EncoderClass {
  function PooledEncoder(this: EncoderLike, initialSize = 511): void {
    this.buf = Buffer.allocUnsafe(Original.nextPowerOfTwo(initialSize));
    this.offset = 0;
  }
  /** Growth to the next power of two, copying the written bytes, as the original grows. */
  function ensureAvailable(this: EncoderLike, length: number): void {
    if (this.offset + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Original.nextPowerOfTwo(this.offset + length));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  }
  PooledEncoder.prototype = Object.create(Original.prototype, {
    constructor: { value: PooledEncoder, writable: true, configurable: true },
    ensureAvailable: { value: ensureAvailable, writable: true, configurable: true },
  });
  Object.setPrototypeOf(PooledEncoder, Original); // statics: sizeOfVarInt, nextPowerOfTwo, …
  Object.defineProperty(PooledEncoder, POOLED, { value: true });
  return PooledEncoder as unknown as EncoderClass;
}

/** Whether KafkaJS's Encoder export is the pooled one now. */
export function pooledEncoderInstalled(): boolean {
  return exportMarked(ENCODER, POOLED);
}

/** Replaces the Encoder export of `target` (KafkaJS's) by the pooled one, once; says whether it is in place. */
export function installPooledEncoder(target = ENCODER): InstallResult {
  // Loading it here puts it in the cache, before any other KafkaJS module requires it.
  return replaceExport(target, POOLED, pooledEncoderOf, (Original: EncoderClass) => {
    const proto = Original.prototype as unknown as Record<string, unknown> | undefined;
    const looksRight = typeof Original.nextPowerOfTwo === 'function' && typeof proto?.ensureAvailable === 'function' && typeof proto.writeInt8 === 'function';
    return looksRight ? undefined : `${target} does not look like KafkaJS 2.2.4's Encoder`;
  });
}
