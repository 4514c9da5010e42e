import type { ProcessedEventMessage, StoredEvent } from '../domain/processed-event';
import { BatchConsumer } from '../kafka/batch-consumer';
import { BatchingPublisher } from '../kafka/publisher';
import { ConsumerGroups } from '../kafka/topics';
import { BatchCoalescer } from '../processing/coalescer';
import { ActivityProcessor } from '../processing/processor';

import type { RoleEnv } from './role-env';

export interface ProcessorRoleOptions {
  /** Runs after each transaction commits, before anything is published (crash tests). */
  afterStore?: (stored: StoredEvent[]) => Promise<void>;
  /** Stored events, in commit order, for subscribers of this same process. */
  onStored?: (events: ProcessedEventMessage[]) => void;
}

/**
 * The `processor` role: the `activity-processor` group stores each activity event once,
 * maintains profiles, dead-letters what it cannot parse and publishes the processed events.
 */
export async function startProcessorRole(env: RoleEnv, options: ProcessorRoleOptions = {}): Promise<BatchConsumer> {
  const { config, logger, metrics, store, kafka, admin, parts, lag } = env;
  // A producer of its own: an idempotent producer has one request in flight, and the processed
  // events should not wait behind recording's requests (nor delay them) when both roles share a
  // process. Its requests are timed by processor_publish_seconds.
  const publisher = new BatchingPublisher(kafka, { ...config.producer, partitionsOf: (topic) => admin.partitionCount(topic), logger });
  await publisher.start();
  parts.add('processor publisher', () => publisher.stop());

  const storeSeconds = metrics.histogram('processor_store_seconds', 'Processor transaction per group of batches', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  const publishSeconds = metrics.histogram('processor_publish_seconds', 'Processor publish per group of batches', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  const groupEvents = metrics.histogram('processor_group_events', 'Events per processor transaction', [], [1, 10, 100, 1000, 5000, 10000, 50000]);
  const processed = metrics.counter('processor_events_total', 'Events handled by the processor', ['outcome']);
  const logic = new ActivityProcessor({
    store,
    publisher,
    topics: config.kafka.topics,
    afterStore: options.afterStore,
    onStored: options.onStored,
    onTimings: (s, p, n) => {
      logger.debug({ events: n, storeSeconds: s, publishSeconds: p }, 'processor group');
      storeSeconds.observe(s);
      publishSeconds.observe(p);
      groupEvents.observe(n);
    },
  });
  // Each group's transaction and publish go on while the next group is fetched and parsed; its
  // offsets are committed once both succeeded.
  const coalescer = new BatchCoalescer(async (batches) => {
    const { settled } = await logic.processDeferred(batches);
    return {
      settled: settled.then((r) => {
        processed.inc({ outcome: 'stored' }, r.inserted);
        processed.inc({ outcome: 'duplicate' }, r.stored.length - r.inserted);
        processed.inc({ outcome: 'dead-lettered' }, r.failed.length);
      }),
    };
  });
  const groupId = `${config.kafka.groupPrefix}${ConsumerGroups.processor}`;
  const topics = [config.kafka.topics.activity, config.kafka.topics.alerts];
  lag.watchCommitted(groupId, topics);
  const consumer = new BatchConsumer({
    kafka,
    logger,
    groupId,
    topics,
    fromBeginning: true,
    maxWaitTimeInMs: config.consumer.maxWaitMs,
    minBytes: config.consumer.minBytes,
    maxBytesPerPartition: config.consumer.maxBytesPerPartition,
    concurrency: config.consumer.concurrency,
    // Partitions handled at once share one transaction and one publish.
    handle: (topic, partition, records) => coalescer.submit({ topic, partition, records }),
  });
  await consumer.start();
  parts.add('processor', () => consumer.stop());
  return consumer;
}
