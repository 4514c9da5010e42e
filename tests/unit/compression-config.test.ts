import { ConfigError, loadConfig } from '../../src/config';
import { COMPRESSIONS, COMPRESSION_TYPES } from '../../src/kafka/compression';

const load = (env: Record<string, string>) => loadConfig(env, () => 'generated-secret');

function errorFor(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('KAFKA_COMPRESSION', () => {
  it('is none by default', () => {
    expect(load({}).producer.compression).toBe('none');
  });

  it.each(COMPRESSIONS)('takes %s, in any case', (name) => {
    expect(load({ KAFKA_COMPRESSION: name }).producer.compression).toBe(name);
    expect(load({ KAFKA_COMPRESSION: ` ${name.toUpperCase()} ` }).producer.compression).toBe(name);
  });

  it('offers none, gzip, snappy and lz4, each with the number Kafka gives it in a record batch', () => {
    expect(COMPRESSION_TYPES).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3 });
  });

  it.each(['zstd', 'deflate', 'on'])('refuses %s, naming the variable and the choices', (value) => {
    const err = errorFor({ KAFKA_COMPRESSION: value });
    expect(err.variable).toBe('KAFKA_COMPRESSION');
    expect(err.message).toContain('KAFKA_COMPRESSION');
    expect(err.message).toContain('none, gzip, snappy, lz4');
  });
});
