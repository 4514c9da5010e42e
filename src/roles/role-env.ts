import type { Config } from '../config';
import type { KafkaAdmin } from '../kafka/client';
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
}
