import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const record = {
  key: 'user-1',
  value: JSON.stringify({ eventId: 'e', pageUrl: '/p'.repeat(400) }),
  headers: { 'event-type': 'CLICK', 'schema-version': '1', 'content-type': 'application/json' },
};

/** Encodes `record` with KafkaJS's record encoder in a Node process of its own, after `prelude`. */
function encodeIn(prelude: string): { installed: boolean; grouping: boolean; bytes: string } {
  const script = `
    ${prelude}
    for (let i = 0; i < 64; i++) Buffer.allocUnsafe(512).fill(0xab); // garbage in the buffer pool
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
    const r = ${JSON.stringify(record)};
    const bytes = Record({ key: Buffer.from(r.key), value: Buffer.from(r.value), headers: r.headers }).buffer.toString('base64');
    const installed = require('kafkajs/src/protocol/encoder')[Symbol.for('activity-gateway.pooled-encoder')] === true;
    const grouping = require('kafkajs/src/producer/groupMessagesPerPartition')[Symbol.for('activity-gateway.linear-grouping')] === true;
    process.stdout.write(JSON.stringify({ installed, grouping, bytes }));`;
  const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { installed: boolean; grouping: boolean; bytes: string };
}

const src = (...path: string[]) => JSON.stringify(join(root, 'src', ...path));
/** Creates a Kafka client as the gateway does (no broker is contacted). */
const createClient = `require(${src('kafka', 'client.ts')}).createKafka({ brokers: ['127.0.0.1:1'], clientId: 'p', logger: require(${src('logger.ts')}).createLogger('silent') });`;

describe('KafkaJS replacements in a Node process', () => {
  it('is what KafkaJS uses once the gateway has created a Kafka client, and records encode as KafkaJS alone encodes them', () => {
    const shipped = encodeIn('');
    const gateway = encodeIn(createClient);
    expect(shipped.installed).toBe(false);
    expect(gateway.installed).toBe(true);
    expect(shipped.grouping).toBe(false);
    expect(gateway.grouping).toBe(true);
    expect(gateway.bytes).toBe(shipped.bytes);
    expect(Buffer.from(gateway.bytes, 'base64').length).toBeGreaterThan(800);
  });

  it('is not installed by importing the gateway’s Kafka modules, which load no KafkaJS module of their own', () => {
    expect(encodeIn(`require(${src('kafka', 'client.ts')}); require(${src('kafka', 'publisher.ts')});`).grouping).toBe(false);
  });

  it('is in place before KafkaJS loads: importing the whole gateway loads no KafkaJS module until a client is created', () => {
    const script = `
      const kafkajs = () => Object.keys(require.cache).filter((k) => k.includes('/node_modules/kafkajs/')).length;
      require(${src('app.ts')});
      for (const f of require('node:fs').readdirSync(${src('kafka')})) require(require('node:path').join(${src('kafka')}, f));
      const before = kafkajs();
      ${createClient}
      process.stdout.write(JSON.stringify({ before, after: kafkajs() }));`;
    const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
  });
});
