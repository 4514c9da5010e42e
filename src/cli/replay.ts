import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createKafka } from '../kafka/client';
import { createLogger } from '../logger';
import { configOrExit } from '../main';
import { replay } from '../processing/replay';
import { parseInstant } from '../domain/instant';
import { openStore } from '../store';

const USAGE = 'usage: npm run replay -- --from <ISO time | earliest> [--rebuild]';

/** `npm run replay`: re-apply the activity log from a point (see src/processing/replay.ts). */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { from: { type: 'string' }, rebuild: { type: 'boolean', default: false } } });
  if (!values.from) throw new Error(USAGE);
  const from = values.from === 'earliest' ? 'earliest' : parseInstant(values.from);
  if (from === null) throw new Error(`--from "${values.from}" is not an ISO-8601 time with a zone or "earliest"; ${USAGE}`);
  const config = configOrExit(process.env);
  const logger = createLogger(config.logLevel);
  const store = await openStore({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir });
  try {
    const started = Date.now();
    const r = await replay({
      kafka: createKafka({ brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-replay`, logger, requirePatches: config.production }),
      store,
      topic: config.kafka.topics.activity,
      dlqTopic: config.kafka.topics.dlq,
      processedTopic: config.kafka.topics.processed,
      from,
      rebuild: values.rebuild ?? false,
      groupPrefix: config.kafka.groupPrefix,
      logger,
    });
    process.stdout.write(
      `replayed ${r.records} record(s) of ${r.partitions} partition(s) in ${Date.now() - started} ms: ` +
        `${r.inserted} event(s) stored, ${r.records - r.inserted - r.failed} already stored, ${r.failed} failed\n`,
    );
  } finally {
    await store.close();
  }
}

void main().catch((err) => {
  process.stderr.write(`replay: ${(err as Error).message}\n`);
  process.exit(1);
});
