import type { Config } from '../config';
import type { KafkaAdmin } from '../kafka/client';
import type { ConsumerLag } from '../kafka/consumer-lag';
import type { BatchingPublisher } from '../kafka/publisher';
import type { Kafka } from 'kafkajs';
import type { Parts } from '../lifecycle';
import type { Logger } from '../logger';
import type { Metrics } from '../server/metrics';
import type { Store } from '../store';

/** What every role of a process starts from: the shared clients, and where it registers its parts. */
export interface RoleEnv {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  store: Store;
  kafka: Kafka;
  admin: KafkaAdmin;
  /** The process's producer: recording and fraud alerts. */
  publisher: BatchingPublisher;
  parts: Parts;
  /** Where each role's consumer group says how it is measured for `kafka_consumer_lag`. */
  lag: ConsumerLag;
  /** Activity events recorded but not yet processed (the processor group's backlog); null when Kafka does not say. */
  processingLag: () => Promise<number | null>;
}
