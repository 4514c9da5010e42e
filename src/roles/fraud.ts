import { alertRecord, detectAlerts } from '../fraud/consumer';
import { FraudDetector } from '../fraud/detector';
import { BatchConsumer } from '../kafka/batch-consumer';
import { ConsumerGroups } from '../kafka/topics';
import type { RoleEnv } from './role-env';

/** The `fraud` role: the `fraud-detector` group runs the rules and publishes the alerts they raise. */
export async function startFraudRole(env: RoleEnv): Promise<BatchConsumer> {
  const { config, logger, metrics, kafka, publisher, parts, lag } = env;
  const detector = new FraudDetector(config.fraud, config.fraud);
  const raised = metrics.counter('fraud_alerts_raised_total', 'Alerts raised by the fraud detector', ['rule']);
  const groupId = `${config.kafka.groupPrefix}${ConsumerGroups.fraud}`;
  lag.watchCommitted(groupId, [config.kafka.topics.activity]);
  const consumer = new BatchConsumer({
    kafka,
    logger,
    groupId,
    topics: [config.kafka.topics.activity],
    fromBeginning: true,
    maxWaitTimeInMs: config.consumer.maxWaitMs,
    minBytes: config.consumer.minBytes,
    maxBytesPerPartition: config.consumer.maxBytesPerPartition,
    // Bad records are the processor's to dead-letter; the detector only skips them.
    handle: async (_topic, _partition, records) => {
      const alerts = detectAlerts(detector, records);
      if (alerts.length === 0) return;
      await publisher.publish(alerts.map((a) => alertRecord(config.kafka.topics.alerts, a)), { immediate: true });
      for (const a of alerts) raised.inc({ rule: a.rule });
    },
  });
  await consumer.start();
  parts.add('fraud detector', () => consumer.stop());
  return consumer;
}
