/**
 * The compressions a produce request can use (`KAFKA_COMPRESSION`), and the number each has in a
 * record batch's attributes (Kafka's, which KafkaJS's `CompressionTypes` repeats). Plain values, so
 * the configuration can name them without loading KafkaJS; the codecs behind them are registered
 * by `registerCodecs` (`codecs.ts`), from `createKafka`.
 *
 * zstd is not among them: its KafkaJS codec (`@kafkajs/zstd`) and the zstd bindings compile or
 * download a native addon at install, which an install without scripts does not run, and Node 20
 * has no zstd of its own (docs/configuration.md).
 */
export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** A compression's number in a record batch's attributes. */
export const COMPRESSION_TYPES = { none: 0, gzip: 1, snappy: 2, lz4: 3 } as const satisfies Record<Compression, number>;

/** What KafkaJS asks of a codec: an encoder's bytes compressed, a compressed batch's records back. */
export interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
