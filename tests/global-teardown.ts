import { createKafka, deleteTopicsAndGroups } from '../src/kafka/client';
import { createLogger } from '../src/logger';

/** Deletes the topics and consumer groups this run created, so repeated runs do not fill a long-lived local broker. */
export default async function globalTeardown(): Promise<void> {
  const run = process.env.TEST_RUN_ID;
  if (!run) return;
  const kafka = createKafka({ brokers: [process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092'], clientId: `teardown-${run}`, logger: createLogger('silent') });
  try {
    const d = await deleteTopicsAndGroups(kafka, (name) => name.includes(`-${run}-`));
    process.stderr.write(`teardown: deleted ${d.topics} topics and ${d.groups} of ${d.groupsFound} consumer groups of test run ${run}\n`);
  } catch (err) {
    process.stderr.write(`teardown: could not delete the run's topics and groups: ${(err as Error).message}\n`);
  }
}
