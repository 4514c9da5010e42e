import { ConfigError, loadConfig } from '../../src/config';
import { COMPRESSIONS, COMPRESSION_TYPES } from '../../src/kafka/compression';

const gen = () => 'generated-secret';
const load = (env: Record<string, string>) => loadConfig(env, gen);

function errorFor(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const c = load({});
    expect(c.port).toBe(4000);
    expect(c.kafka.brokers).toEqual(['localhost:9092']);
    expect(c.kafka.topics).toEqual({
      activity: 'user-activities',
      processed: 'user-activities.processed',
      alerts: 'fraud-alerts',
      dlq: 'user-activities.dlq',
    });
    expect(c.kafka.partitions).toBe(6);
    expect([...c.roles]).toEqual(['gateway', 'processor', 'fraud']);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.introspection).toBe(true);
    expect(c.jwt).toMatchObject({ algorithm: 'HS256', secret: 'generated-secret', generated: true });
  });

  it('reads every contract variable', () => {
    const c = load({
      PORT: '8080',
      KAFKA_BROKERS: 'a:1, b:2',
      KAFKA_CLIENT_ID: 'gw',
      KAFKA_ACTIVITY_TOPIC: 'acts',
      KAFKA_PROCESSED_TOPIC: 'acts.p',
      KAFKA_ALERT_TOPIC: 'alerts',
      KAFKA_DLQ_TOPIC: 'acts.dlq',
      KAFKA_PARTITIONS: '12',
      DATABASE_URL: 'postgres://u@h:5432/db',
      JWT_SECRET: 's',
      JWT_ISSUER: 'iss',
      JWT_AUDIENCE: 'aud',
      ROLES: 'processor,fraud',
      LOG_LEVEL: 'debug',
      NODE_ENV: 'test',
    });
    expect(c.port).toBe(8080);
    expect(c.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(c.kafka.clientId).toBe('gw');
    expect(c.kafka.topics.dlq).toBe('acts.dlq');
    expect(c.kafka.partitions).toBe(12);
    expect(c.databaseUrl).toBe('postgres://u@h:5432/db');
    expect(c.jwt).toEqual({ algorithm: 'HS256', secret: 's', generated: false, issuer: 'iss', audience: 'aud' });
    expect([...c.roles]).toEqual(['processor', 'fraud']);
    expect(c.logLevel).toBe('debug');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ KAFKA_BROKERS: 'nohostport' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: ' , ' }, 'KAFKA_BROKERS'],
    [{ KAFKA_PARTITIONS: '0' }, 'KAFKA_PARTITIONS'],
    [{ KAFKA_ACTIVITY_TOPIC: 'bad topic!' }, 'KAFKA_ACTIVITY_TOPIC'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ ROLES: 'gateway,cook' }, 'ROLES'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ INTROSPECTION: 'maybe' }, 'INTROSPECTION'],
    [{ JWT_PUBLIC_KEY: 'not a pem' }, 'JWT_PUBLIC_KEY'],
    [{ JWT_SECRET: 'a', JWT_PUBLIC_KEY: 'b' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'production', KAFKA_BROKERS: 'k:9092' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }, 'KAFKA_BROKERS'],
    [{ NODE_ENV: 'production', KAFKA_BROKERS: 'k:9092', JWT_SECRET: 'short' }, 'JWT_SECRET'],
  ])('rejects %j naming %s', (env, variable) => {
    const err = errorFor(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}:`)).toBe(true);
  });

  it('names every bad variable in one error, the first as its variable', () => {
    const err = errorFor({ PORT: 'abc', LOG_LEVEL: 'loud', KAFKA_PARTITIONS: '0' });
    expect(['PORT', 'LOG_LEVEL', 'KAFKA_PARTITIONS']).toContain(err.variable);
    for (const name of ['PORT', 'LOG_LEVEL', 'KAFKA_PARTITIONS']) expect(err.message).toContain(`${name}:`);
  });

  it('reads the query limits, with their defaults', () => {
    expect(load({}).limits).toMatchObject({ maxQueryDepth: 12, maxQueryCost: 20_000, maxQueryAliases: 50, maxQueryDirectives: 50, maxQueryTokens: 5_000 });
    expect(load({ MAX_QUERY_ALIASES: '7', MAX_QUERY_TOKENS: '900' }).limits).toMatchObject({ maxQueryAliases: 7, maxQueryTokens: 900 });
    expect(errorFor({ MAX_QUERY_TOKENS: '10' }).variable).toBe('MAX_QUERY_TOKENS');
  });

  it('treats a blank value as unset and reads names case-insensitively', () => {
    const c = load({ PORT: '  ', LOG_LEVEL: 'DEBUG', FRAUD_GEO_SEVERITY: 'high' });
    expect(c.port).toBe(4000);
    expect(c.logLevel).toBe('debug');
    expect(c.fraud.geoSeverity).toBe('HIGH');
  });

  it('turns introspection off in production by default', () => {
    const c = load({ NODE_ENV: 'production', KAFKA_BROKERS: 'k:9092', JWT_SECRET: 'x'.repeat(40) });
    expect(c.introspection).toBe(false);
    expect(c.production).toBe(true);
  });

  it('pins RS256 when a public key is configured', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\\nMIIB\\n-----END PUBLIC KEY-----';
    const c = load({ JWT_PUBLIC_KEY: pem });
    expect(c.jwt.algorithm).toBe('RS256');
    expect(c.jwt.algorithm === 'RS256' && c.jwt.publicKey).toContain('\nMIIB\n');
  });
});

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
