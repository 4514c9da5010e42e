import { createKafka } from '../src/kafka/client';
import { createLogger } from '../src/logger';

/** Deletes the topics this run created, so repeated runs do not fill a long-lived local broker. */
export default async function globalTeardown(): Promise<void> {
  const run = process.env.TEST_RUN_ID;
  if (!run) return;
  const admin = createKafka({ brokers: [process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092'], clientId: `teardown-${run}`, logger: createLogger('silent') }).admin();
  try {
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.includes(`-${run}-`));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
    process.stderr.write(`teardown: deleted ${mine.length} topics of test run ${run}\n`);
  } catch (err) {
    process.stderr.write(`teardown: could not delete the run's topics: ${(err as Error).message}\n`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
