import type { Codec } from './compression';

/**
 * LZ4 for KafkaJS, by `lz4-napi` (Rust's lz4_flex, prebuilt for each platform as an optional
 * dependency, so nothing compiles at install). Kafka's LZ4 batches hold an LZ4 frame (magic
 * 0x184D2204, independent blocks), which the broker checks and Java clients read; lz4-napi's
 * `compressFrame` writes that and its `decompressFrame` reads the frames Java producers write.
 * `kafkajs-lz4`, the usual codec, binds the `lz4` package, whose native addon compiles at
 * install, so it does not install without scripts.
 *
 * The package is required when the codec is first asked for (`codecs.ts`): a platform without
 * its binary fails a start that asks for LZ4, not every start.
 */

interface Lz4Napi {
  compressFrame(data: Buffer): Promise<Buffer>;
  decompressFrame(data: Buffer): Promise<Buffer>;
}

export function lz4Codec(): Codec {
  const lz4 = require('lz4-napi') as Lz4Napi;
  return {
    compress: (encoder) => lz4.compressFrame(encoder.buffer),
    decompress: (buffer) => lz4.decompressFrame(buffer),
  };
}
