import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/logger';

type Client = typeof import('../../src/kafka/client');
type Patches = typeof import('../../src/kafka/patches');

/**
 * Runs `test` with the Kafka client module of a fresh module registry (KafkaJS not loaded, nothing
 * installed), as in a new process; says whether loading it (and the publisher's) loaded any
 * KafkaJS module. Jest resolves a module's requires in the isolated registry only while `test`
 * runs, so everything that may load KafkaJS happens inside it.
 */
function fresh(test: (loaded: { client: Client; patches: Patches; loadedKafkaJS: boolean }) => void | Promise<void>): Promise<void> {
  let done: void | Promise<void> = undefined;
  jest.isolateModules(() => {
    const client = require('../../src/kafka/client') as Client;
    require('../../src/kafka/publisher');
    const kafkajsModules = ['kafkajs', 'kafkajs/src/protocol/encoder', 'kafkajs/src/producer/groupMessagesPerPartition', 'kafkajs/src/network/requestQueue'];
    const loadedKafkaJS = kafkajsModules.some((m) => require.cache[require.resolve(m)] !== undefined);
    done = test({ client, patches: require('../../src/kafka/patches') as Patches, loadedKafkaJS });
  });
  return Promise.resolve(done);
}

/** A logger whose lines are kept, parsed. */
function capturing(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown> & { level: string; msg: string }> } {
  const lines: Array<Record<string, unknown> & { level: string; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

// No broker is contacted: KafkaJS connects on first use, not when a client is created.
const options = { brokers: ['127.0.0.1:1'], clientId: 'patches' };

describe('the changes to KafkaJS', () => {
  it('are installed by createKafka, every one reported installed, in one info line, and not before', () => fresh(({ client, patches, loadedKafkaJS }) => {
    // Loading the client and publisher modules loaded no KafkaJS module and installed nothing.
    expect(loadedKafkaJS).toBe(false);
    expect(patches.kafkaPatchesRan()).toBe(false);
    const { logger, lines } = capturing();
    const kafka = client.createKafka({ ...options, logger, requirePatches: true });

    const report = client.kafkaPatchReport(kafka);
    expect(report.map((o) => o.patch)).toEqual([...patches.KAFKA_PATCHES]);
    expect(report.every((o) => o.status === 'installed')).toBe(true);
    const line = lines.filter((l) => String(l.msg).startsWith('KafkaJS patches'));
    expect(line).toHaveLength(1);
    expect(line[0]!.level).toBe('info');
    for (const name of patches.KAFKA_PATCHES) expect(line[0]!.msg).toContain(`${name} installed`);
  }));

  it('are what KafkaJS runs with once the client is created', () => {
    jest.isolateModules(() => {
      const { createKafka } = require('../../src/kafka/client') as Client;
      createKafka({ ...options, logger: createLogger('silent') });
      const marked = (path: string, name: string) => (require(path) as Record<symbol, unknown>)[Symbol.for(`activity-gateway.${name}`)] === true;
      expect(marked('kafkajs/src/protocol/encoder', 'pooled-encoder')).toBe(true);
      expect(marked('kafkajs/src/producer/groupMessagesPerPartition', 'linear-grouping')).toBe(true);
      expect(marked('kafkajs/src/protocol/recordBatch/record/v0', 'direct-record-encoder')).toBe(true);
      expect(marked('kafkajs/src/protocol/requests/produce/v3/request', 'direct-produce-request')).toBe(true);
      expect(marked('kafkajs/src/protocol/request', 'direct-produce-request')).toBe(true);
      const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: Record<string, Record<symbol, unknown>> };
      expect(RequestQueue.prototype.scheduleCheckPendingRequests![Symbol.for('activity-gateway.idle-request-queue')]).toBe(true);
    });
  });

  it('stop a start that requires them when one did not install, naming it', () => fresh(({ client }) => {
    const { logger, lines } = capturing();
    expect(() =>
      client.createKafka({ ...options, logger, requirePatches: true, patches: { targets: { 'linear-grouping': 'kafkajs/src/producer/moved-in-an-upgrade' } } }),
    ).toThrow(/KafkaJS patches not installed: linear-grouping \(kafkajs\/src\/producer\/moved-in-an-upgrade not found\)/);
    const line = lines.find((l) => String(l.msg).startsWith('KafkaJS patches'))!;
    expect(line.level).toBe('warn');
    expect(line.msg).toContain('linear-grouping skipped');
    expect(line.msg).toContain('pooled-encoder installed');
  }));

  it('when one did not install and the start does not require them, are logged and the client is created', () => fresh(({ client }) => {
    const { logger, lines } = capturing();
    // A module that is there but is not what the change expects: KafkaJS's Long in place of its Encoder.
    const kafka = client.createKafka({ ...options, logger, patches: { targets: { 'pooled-encoder': 'kafkajs/src/utils/long' } } });
    const report = client.kafkaPatchReport(kafka);
    expect(report.find((o) => o.patch === 'pooled-encoder')).toEqual({
      patch: 'pooled-encoder',
      status: 'skipped',
      reason: "kafkajs/src/utils/long does not look like KafkaJS 2.2.4's Encoder",
    });
    expect(report.filter((o) => o.status === 'installed').map((o) => o.patch)).toEqual(['linear-grouping', 'direct-record-encoder', 'direct-produce-request', 'idle-request-queue']);
    expect(typeof kafka.producer).toBe('function');
    const line = lines.find((l) => String(l.msg).startsWith('KafkaJS patches'))!;
    expect(line.level).toBe('warn');
    expect(line.msg).toContain("pooled-encoder skipped (kafkajs/src/utils/long does not look like KafkaJS 2.2.4's Encoder)");
  }));

  it('report the module replacements skipped when KafkaJS was loaded before them (it would keep the originals)', () => {
    jest.isolateModules(() => {
      require('kafkajs');
      const { createKafka, kafkaPatchReport } = require('../../src/kafka/client') as Client;
      const report = kafkaPatchReport(createKafka({ ...options, logger: createLogger('silent') }));
      const status = Object.fromEntries(report.map((o) => [o.patch, o.status]));
      expect(status).toEqual({
        'pooled-encoder': 'skipped',
        'linear-grouping': 'skipped',
        'direct-record-encoder': 'skipped',
        'direct-produce-request': 'skipped',
        // A change of the class's prototype takes effect whenever it is made.
        'idle-request-queue': 'installed',
      });
      expect(report[0]!.reason).toBe('KafkaJS was loaded before the patches were installed');
    });
  });

  it('are counted by kafka_patch_installed, 1 installed and 0 skipped', () => fresh(async ({ client }) => {
    const { registerKafkaPatchMetric } = require('../../src/kafka/patch-metric') as typeof import('../../src/kafka/patch-metric');
    const kafka = client.createKafka({ ...options, logger: createLogger('silent'), patches: { targets: { 'idle-request-queue': 'kafkajs/src/network/gone' } } });
    const registry = new Registry();
    registerKafkaPatchMetric(registry, client.kafkaPatchReport(kafka));
    const text = await registry.metrics();
    expect(text).toContain('kafka_patch_installed{patch="pooled-encoder"} 1');
    expect(text).toContain('kafka_patch_installed{patch="direct-produce-request"} 1');
    expect(text).toContain('kafka_patch_installed{patch="idle-request-queue"} 0');
  }));

  it('leave KafkaJS’s log levels to local constants that are KafkaJS’s values', () => {
    jest.isolateModules(() => {
      const { KafkaLogLevel } = require('../../src/kafka/client') as Client;
      const { logLevel } = require('kafkajs') as typeof import('kafkajs');
      expect(KafkaLogLevel).toEqual({ NOTHING: logLevel.NOTHING, ERROR: logLevel.ERROR, WARN: logLevel.WARN, INFO: logLevel.INFO, DEBUG: logLevel.DEBUG });
    });
  });
});
