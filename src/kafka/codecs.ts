import type * as KafkaJS from 'kafkajs';
import { COMPRESSION_TYPES, type Codec, type Compression } from './compression';
import { lz4Codec } from './lz4-codec';

/**
 * KafkaJS 2.2.4 ships gzip only; the other codecs are registered with it by putting a factory in
 * its `CompressionCodecs`, which both its record batch encoder and its fetch decoder look up by
 * the batch's compression number. `registerCodecs` does that from `createKafka`, for every codec
 * offered and whatever `KAFKA_COMPRESSION` says: a consumer has to read what any producer sent,
 * the gateway's recording in another process included. Nothing registers on import.
 *
 * Each codec's package is loaded when a batch first needs it (KafkaJS asks the factory on every
 * batch, so the loaded codec is kept), and a producer asks `codecUnavailable` at start, so that a
 * codec whose package cannot load fails the start instead of every publish.
 */

type Extra = Exclude<Compression, 'none' | 'gzip'>;

/** The packages of the codecs KafkaJS does not ship, loaded on first use. */
const LOADERS: Record<Extra, () => Codec> = {
  // The KafkaJS project's own snappy codec: pure JavaScript (snappyjs), and it reads the xerial
  // framing that Java producers use as well as plain snappy.
  snappy: () => (require('kafkajs-snappy') as () => Codec)(),
  // Prebuilt binaries (lz4-napi's platform packages), so nothing compiles at install.
  lz4: lz4Codec,
};

const loaded = new Map<Extra, Codec>();

function codecOf(name: Extra): Codec {
  let codec = loaded.get(name);
  if (!codec) {
    codec = LOADERS[name]();
    loaded.set(name, codec);
  }
  return codec;
}

const REGISTERED = Symbol.for('activity-gateway.codec');

/** Puts a factory for every codec KafkaJS does not ship into its `CompressionCodecs` (again: harmless). */
export function registerCodecs(kafkajs: Pick<typeof KafkaJS, 'CompressionCodecs'>): void {
  const codecs = kafkajs.CompressionCodecs as unknown as Record<number, () => Codec>;
  for (const name of Object.keys(LOADERS) as Extra[]) {
    const factory = (): Codec => codecOf(name);
    Object.defineProperty(factory, REGISTERED, { value: name });
    codecs[COMPRESSION_TYPES[name]] = factory;
  }
}

/** Whether KafkaJS's codec for `compression` is the one `registerCodecs` put there (gzip and none: KafkaJS's own). */
export function codecRegistered(kafkajs: Pick<typeof KafkaJS, 'CompressionCodecs'>, compression: Compression): boolean {
  if (compression === 'none' || compression === 'gzip') return true;
  const factory = (kafkajs.CompressionCodecs as unknown as Record<number, unknown>)[COMPRESSION_TYPES[compression]];
  return (factory as Record<symbol, unknown> | undefined)?.[REGISTERED] === compression;
}

/** Why `compression`'s codec cannot be used here (its package does not load), or undefined when it can. */
export function codecUnavailable(compression: Compression): string | undefined {
  if (compression === 'none' || compression === 'gzip') return undefined;
  try {
    codecOf(compression);
    return undefined;
  } catch (err) {
    return `the ${compression} codec does not load: ${(err as Error).message}`;
  }
}
