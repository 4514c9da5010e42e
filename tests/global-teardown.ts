import { createKafka } from '../src/kafka/client';
import { createLogger } from '../src/logger';

/**
 * Deletes the topics and consumer groups this run created, so repeated runs do not fill a
 * long-lived local broker. A group that still has members (none should) is left for the broker
 * to expire.
 */
export default async function globalTeardown(): Promise<void> {
  const run = process.env.TEST_RUN_ID;
  if (!run) return;
  const admin = createKafka({ brokers: [process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092'], clientId: `teardown-${run}`, logger: createLogger('silent') }).admin();
  try {
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.includes(`-${run}-`));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(`-${run}-`));
    let deletedGroups = 0;
    if (groups.length > 0) {
      try {
        await admin.deleteGroups(groups);
        deletedGroups = groups.length;
      } catch (err) {
        const failed = (err as { groups?: unknown[] }).groups?.length ?? groups.length;
        deletedGroups = groups.length - failed;
      }
    }
    process.stderr.write(`teardown: deleted ${mine.length} topics and ${deletedGroups} of ${groups.length} consumer groups of test run ${run}\n`);
  } catch (err) {
    process.stderr.write(`teardown: could not delete the run's topics: ${(err as Error).message}\n`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
