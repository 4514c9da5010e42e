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

describe('KafkaJS replacements in a Node process', () => {
  it('is what KafkaJS uses once the gateway’s Kafka client module is loaded, and records encode as KafkaJS alone encodes them', () => {
    const shipped = encodeIn('');
    const gateway = encodeIn(`require(${JSON.stringify(join(root, 'src', 'kafka', 'client.ts'))});`);
    expect(shipped.installed).toBe(false);
    expect(gateway.installed).toBe(true);
    expect(shipped.grouping).toBe(false);
    expect(gateway.bytes).toBe(shipped.bytes);
    expect(Buffer.from(gateway.bytes, 'base64').length).toBeGreaterThan(800);
  });

  it('the linear grouping of produce calls is in place before KafkaJS loads, whichever Kafka module of the gateway loads first', () => {
    for (const file of ['client.ts', 'publisher.ts']) {
      expect(encodeIn(`require(${JSON.stringify(join(root, 'src', 'kafka', file))});`).grouping).toBe(true);
    }
  });
});
