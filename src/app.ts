import type { ProcessedEventMessage } from './domain/processed-event';
import { randomUUID } from 'node:crypto';
import { Gauge } from 'prom-client';
import type { Config } from './config';
import { createKafka, KafkaAdmin, kafkaPatchReport } from './kafka/client';
import { ConsumerLag } from './kafka/consumer-lag';
import { GroupOffsets } from './kafka/group-offsets';
import { registerConsumerLagMetric } from './kafka/lag-metric';
import { registerKafkaPatchMetric } from './kafka/patch-metric';
import { BatchingPublisher } from './kafka/publisher';
import { ConsumerGroups, topicSpecs } from './kafka/topics';
import { Parts } from './lifecycle';
import type { Logger } from './logger';

import { startFraudRole } from './roles/fraud';
import { startGatewayServer, type GatewayRoleOptions } from './roles/gateway';
import { startLiveStream } from './roles/live-stream';
import { startProcessorRole, type ProcessorRoleOptions } from './roles/processor';
import type { RoleEnv } from './roles/role-env';
import type { GatewayServer, ReadinessCheck } from './server/http-server';
import { placeRoles } from './roles/placement';
import { RoleThread } from './roles/role-thread';
import { Metrics } from './server/metrics';
import { openStore, type Store } from './store';
import type { StreamHub } from './streaming/hub';

/** `afterStore` keeps the processor on this app's thread, whatever ROLE_THREADS says. */
export interface AppOptions extends GatewayRoleOptions, Pick<ProcessorRoleOptions, 'afterStore'> {
  /** PostgreSQL schema (search_path) for the store; tests use a throwaway one. */
  storeSchema?: string;
  /** Identifies this instance (its fan-out consumer group); random by default. */
  instanceId?: string;
  /** Node's process metrics in this app's registry: off for an app in a role's thread. */
  processMetrics?: boolean;
}

interface Running {
  parts: Parts;
  store: Store;
  server?: GatewayServer;
  hub?: StreamHub;
}

type Lifecycle = { state: 'created' } | { state: 'running'; running: Running } | { state: 'stopping' } | { state: 'stopped' };

class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`unreachable case: ${JSON.stringify(value)}`);
  }
}

/**
 * The whole process: the store and the Kafka clients every role shares, then the roles that
 * `ROLES` names (processor, fraud, gateway). `start()` brings the parts up in dependency order;
 * `stop()` takes them down in reverse: stop accepting, close sockets, drain consumers and
 * producers, close the store.
 */
export class App {
  private lifecycle: Lifecycle = { state: 'created' };
  readonly instanceId: string;
  readonly metrics: Metrics;
  private thread: RoleThread | undefined;

  constructor(
    readonly config: Config,
    private readonly logger: Logger,
    private readonly options: AppOptions = {},
  ) {
    this.instanceId = options.instanceId ?? randomUUID().slice(0, 8);
    this.metrics = new Metrics(options.processMetrics ?? true);
  }

  /** The thread running this process's processor and fraud roles, when they run in one. */
  get roleThread(): RoleThread | undefined {
    return this.thread;
  }

  /** The HTTP port, once started with the gateway role. */
  get port(): number {
    if (this.lifecycle.state !== 'running' || !this.lifecycle.running.server) throw new Error('the gateway is not serving');
    return this.lifecycle.running.server.port;
  }

  /** Live subscriptions on this instance's hub (0 without the gateway role). */
  hubSubscribers(): number {
    if (this.lifecycle.state !== 'running') return 0;
    return this.lifecycle.running.hub?.subscriberCount ?? 0;
  }

  get store(): Store {
    if (this.lifecycle.state !== 'running') throw new Error('the app is not running');
    return this.lifecycle.running.store;
  }

  /**
   * Starts every part this process's roles need.
   * @throws when the store or Kafka cannot be reached; what was started is stopped again.
   */
  async start(): Promise<void> {
    if (this.lifecycle.state !== 'created') throw new Error(`cannot start an app that is ${this.lifecycle.state}`);
    const { config, logger } = this;
    const parts = new Parts();
    try {
      const env = await this.startShared(parts);
      // A hook on the processor's transactions needs the processor on this thread.
      const placed = this.options.afterStore ? { main: [...config.roles], thread: [] } : placeRoles(config);
      // With the gateway role in this process too, stored events reach its subscribers from the
      // processor directly (once the gateway's live stream exists); the topic brings them again.
      let deliverLocally: ((events: ProcessedEventMessage[]) => void) | undefined;
      const readiness: ReadinessCheck[] = [];
      if (placed.thread.length > 0) {
        const thread = new RoleThread({
          config,
          roles: placed.thread,
          storeSchema: this.options.storeSchema,
          logger,
          onGiveUp: (reason) => {
            logger.fatal({ reason }, 'a role cannot be kept running; exiting');
            process.exit(1);
          },
        });
        await thread.start();
        this.thread = thread;
        parts.add(`${thread.name} thread`, () => thread.stop());
        const removeSource = this.metrics.addSource(() => thread.metrics());
        parts.add('role thread metrics', removeSource);
        readiness.push({
          name: thread.name,
          check: async () => {
            const h = thread.health();
            if (!h.ok) throw new Error(h.reason);
          },
        });
      } else {
        if (config.roles.has('processor')) {
          await startProcessorRole(env, {
            afterStore: this.options.afterStore,
            // Only where this process has subscribers of its own: otherwise no copy of each group.
            onStored: config.roles.has('gateway') ? (events) => deliverLocally?.(events) : undefined,
          });
        }
        if (config.roles.has('fraud')) await startFraudRole(env);
      }
      let server: GatewayServer | undefined;
      let hub: StreamHub | undefined;
      if (config.roles.has('gateway')) {
        const live = await startLiveStream(env, this.instanceId);
        hub = live.hub;
        deliverLocally = (events) => live.deliverLocally(events);
        server = await startGatewayServer(env, live.hub, this.options, readiness);
      }
      this.lifecycle = { state: 'running', running: { parts, store: env.store, server, hub } };
    } catch (err) {
      await parts.stopAll(logger);
      this.lifecycle = { state: 'stopped' };
      throw err;
    }
  }

  /** Stops in reverse order of start. Safe to call more than once. */
  async stop(): Promise<void> {
    const current = this.lifecycle;
    switch (current.state) {
      case 'created':
      case 'stopped':
        this.lifecycle = { state: 'stopped' };
        return;
      case 'stopping':
        return;
      case 'running':
        this.lifecycle = { state: 'stopping' };
        await current.running.parts.stopAll(this.logger);
        this.lifecycle = { state: 'stopped' };
        this.logger.info('stopped');
        return;
      default:
        throw new UnreachableCaseError(current);
    }
  }

  /** The store, the Kafka admin (topics made sure of), consumer lag and the process's producer. */
  private async startShared(parts: Parts): Promise<RoleEnv> {
    const { config, logger, metrics } = this;
    const store = await openStore({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, schema: this.options.storeSchema });
    parts.add('store', () => store.close());
    logger.info({ kind: store.kind }, 'store ready');
    metrics.registry.registerMetric(
      new Gauge({ name: 'store_statements', help: 'SQL statements run since start', registers: [], collect() { this.set(store.statements); } }),
    );

    // A production start refuses to run KafkaJS without the changes its figures rely on.
    const kafka = createKafka({ brokers: config.kafka.brokers, clientId: config.kafka.clientId, logger, requirePatches: config.production });
    registerKafkaPatchMetric(metrics.registry, kafkaPatchReport(kafka));
    const admin = new KafkaAdmin(kafka);
    await admin.start();
    parts.add('kafka admin', () => admin.stop());
    const specs = topicSpecs(config.kafka.topics, config.kafka.partitions);
    const created = await admin.ensureTopics(specs);
    if (created.length > 0) logger.info({ topics: created }, 'topics created');
    const counts = await admin.partitionCounts(specs.map((s) => s.name));
    for (const s of specs) {
      const n = counts.get(s.name);
      if (n !== undefined && n < s.partitions) logger.warn({ topic: s.name, partitions: n, configured: s.partitions }, 'topic has fewer partitions than configured');
    }
    const offsets = new GroupOffsets(kafka);
    await offsets.start();
    parts.add('kafka offsets', () => offsets.stop());
    const lag = new ConsumerLag(offsets, logger);
    registerConsumerLagMetric(metrics.registry, lag);
    // Read from the processor group's commits, so a gateway without the processor role reports it too.
    const processorGroup = `${config.kafka.groupPrefix}${ConsumerGroups.processor}`;
    const processingLag = () => lag.backlog(processorGroup, config.kafka.topics.activity);

    const publishBatch = metrics.histogram('kafka_publish_batch_records', 'Records per produce request', [], [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000]);
    const publishSeconds = metrics.histogram(
      'kafka_publish_seconds',
      'Produce request latency (recording and fraud alerts; the processor has a producer of its own, timed by processor_publish_seconds)',
      [],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    );
    const publisher = new BatchingPublisher(kafka, {
      ...config.producer,
      partitionsOf: (topic) => admin.partitionCount(topic),
      logger,
      onBatch: (records, seconds) => {
        publishBatch.observe(records);
        publishSeconds.observe(seconds);
      },
    });
    await publisher.start();
    parts.add('publisher', () => publisher.stop());
    return { config, logger, metrics, store, kafka, admin, publisher, parts, lag, processingLag };
  }
}
