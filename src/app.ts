import { randomUUID } from 'node:crypto';
import { Gauge } from 'prom-client';
import { TokenVerifier } from './auth/jwt';
import type { Config } from './config';
import { createKafka, KafkaAdmin } from './kafka/client';
import { BatchingPublisher } from './kafka/publisher';
import { ConsumerGroups, topicSpecs } from './kafka/topics';
import { BatchConsumer } from './kafka/batch-consumer';
import { ActivityProcessor } from './processing/processor';
import { BatchCoalescer } from './processing/coalescer';
import { createLoaders } from './resolvers/loaders';
import { EVENT_COLUMNS, toStoredEvent, type EventRow, type StoredEvent } from './store/activity-store';
import { FanoutConsumer } from './kafka/fanout-consumer';
import { Sequencer } from './streaming/sequencer';
import { StreamHub } from './streaming/hub';
import type { ProcessedEventMessage } from './processing/processor';
import { encodeCursor } from './domain/cursor';
import { parseAlert } from './domain/alerts';
import { FraudDetector } from './fraud/detector';
import { alertRecord, detectAlerts } from './fraud/consumer';
import { clientAddress } from './domain/client-address';
import { RateLimiter } from './domain/rate-limit';
import { DeviceDetector } from './domain/user-agent';
import { ActivityRecorder, type RecorderDeps } from './recording/recorder';
import { restIngestHandler } from './server/rest-ingest';
import type { Logger } from './logger';
import { buildGatewaySchema } from './schema/build';
import { GatewayServer } from './server/http-server';
import { Metrics } from './server/metrics';
import { openStore, type Store } from './store';

export interface AppOptions {
  /** PostgreSQL schema (search_path) for the store; tests use a throwaway one. */
  storeSchema?: string;
  /** Identifies this instance (its fan-out consumer group); random by default. */
  instanceId?: string;
  /** Runs after each processor transaction commits, before anything is published (crash tests). */
  afterStore?: (stored: StoredEvent[]) => Promise<void>;
  /** Builds the recording pipeline; the benchmarks' reference gateways take parts of it out. */
  recorder?: (deps: RecorderDeps) => ActivityRecorder;
}

type Lifecycle =
  | { state: 'created' }
  | { state: 'running'; resources: Resources }
  | { state: 'stopping' }
  | { state: 'stopped' };

interface Resources {
  store: Store;
  admin: KafkaAdmin;
  server?: GatewayServer;
  publisher: BatchingPublisher;
  processor?: BatchConsumer;
  processorPublisher?: BatchingPublisher;
  fraud?: BatchConsumer;
  fanout?: FanoutConsumer;
  hub?: StreamHub;
}

class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`unreachable case: ${JSON.stringify(value)}`);
  }
}

/**
 * The whole gateway process: store, Kafka, and (with the `gateway` role) the HTTP/WebSocket
 * server. `start()` brings the parts up in dependency order; `stop()` takes them down in
 * reverse: stop accepting, close sockets, drain Kafka clients, close the store.
 */
export class App {
  private lifecycle: Lifecycle = { state: 'created' };
  readonly instanceId: string;
  readonly metrics = new Metrics();
  private readonly publishBatch = this.metrics.histogram('kafka_publish_batch_records', 'Records per produce request', [], [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000]);
  private readonly publishSeconds = this.metrics.histogram('kafka_publish_seconds', 'Produce request latency (recording and fraud alerts; the processor has a producer of its own, timed by processor_publish_seconds)', [], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);

  constructor(
    readonly config: Config,
    private readonly logger: Logger,
    private readonly options: AppOptions = {},
  ) {
    this.instanceId = options.instanceId ?? randomUUID().slice(0, 8);
  }

  /** The HTTP port, once started with the gateway role. */
  get port(): number {
    if (this.lifecycle.state !== 'running' || !this.lifecycle.resources.server) {
      throw new Error('the gateway is not serving');
    }
    return this.lifecycle.resources.server.port;
  }

  /** Live subscriptions on this instance's hub (0 without the gateway role). */
  hubSubscribers(): number {
    if (this.lifecycle.state !== 'running') return 0;
    return this.lifecycle.resources.hub?.subscriberCount ?? 0;
  }

  get store(): Store {
    if (this.lifecycle.state !== 'running') throw new Error('the app is not running');
    return this.lifecycle.resources.store;
  }

  /**
   * Starts every part this process's roles need.
   * @throws when the store or Kafka cannot be reached; what was started is stopped again.
   */
  async start(): Promise<void> {
    if (this.lifecycle.state !== 'created') throw new Error(`cannot start an app that is ${this.lifecycle.state}`);
    const { config, logger } = this;
    const started: Array<{ name: string; stop: () => Promise<void> }> = [];
    try {
      const store = await openStore({
        databaseUrl: config.databaseUrl,
        pgliteDir: config.pgliteDir,
        schema: this.options.storeSchema,
      });
      started.push({ name: 'store', stop: () => store.close() });
      logger.info({ kind: store.kind }, 'store ready');
      this.metrics.registry.registerMetric(
        new Gauge({ name: 'store_statements', help: 'SQL statements run since start', registers: [], collect() { this.set(store.statements); } }),
      );

      const kafka = createKafka({ brokers: config.kafka.brokers, clientId: config.kafka.clientId, logger });
      const admin = new KafkaAdmin(kafka);
      await admin.start();
      started.push({ name: 'kafka admin', stop: () => admin.stop() });
      const specs = topicSpecs(config.kafka.topics, config.kafka.partitions);
      const created = await admin.ensureTopics(specs);
      if (created.length > 0) logger.info({ topics: created }, 'topics created');
      const counts = await admin.partitionCounts(specs.map((s) => s.name));
      for (const s of specs) {
        const n = counts.get(s.name);
        if (n !== undefined && n < s.partitions) {
          logger.warn({ topic: s.name, partitions: n, configured: s.partitions }, 'topic has fewer partitions than configured');
        }
      }

      const publisher = new BatchingPublisher(kafka, {
        ...config.producer,
        partitionsOf: (topic) => admin.partitionCount(topic),
        logger,
        onBatch: (records, seconds) => {
          this.publishBatch.observe(records);
          this.publishSeconds.observe(seconds);
        },
      });
      await publisher.start();
      started.push({ name: 'publisher', stop: () => publisher.stop() });

      // With the gateway role in this process too, stored events reach its subscribers from the
      // processor directly (set once the gateway's sequencer exists); the topic brings them again.
      let deliverLocally: ((events: ProcessedEventMessage[]) => void) | undefined;
      let processor: BatchConsumer | undefined;
      let processorPublisher: BatchingPublisher | undefined;
      if (config.roles.has('processor')) {
        // A producer of its own: an idempotent producer has one request in flight, and the
        // processed events should not wait behind recording's requests (nor delay them) when both
        // roles share a process. Its requests are timed by processor_publish_seconds.
        const own = new BatchingPublisher(kafka, { ...config.producer, partitionsOf: (topic) => admin.partitionCount(topic), logger });
        await own.start();
        started.push({ name: 'processor publisher', stop: () => own.stop() });
        processorPublisher = own;
        const storeSeconds = this.metrics.histogram('processor_store_seconds', 'Processor transaction per group of batches', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
        const publishSeconds = this.metrics.histogram('processor_publish_seconds', 'Processor publish per group of batches', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
        const groupEvents = this.metrics.histogram('processor_group_events', 'Events per processor transaction', [], [1, 10, 100, 1000, 5000, 10000, 50000]);
        const logic = new ActivityProcessor({
          store,
          publisher: own,
          topics: config.kafka.topics,
          afterStore: this.options.afterStore,
          // Only where this process has subscribers of its own: otherwise no copy of each group.
          onStored: config.roles.has('gateway') ? (events) => deliverLocally?.(events) : undefined,
          onTimings: (s, p, n) => {
            logger.debug({ events: n, storeSeconds: s, publishSeconds: p }, 'processor group');
            storeSeconds.observe(s);
            publishSeconds.observe(p);
            groupEvents.observe(n);
          },
        });
        const processed = this.metrics.counter('processor_events_total', 'Events handled by the processor', ['outcome']);
        // Each group's transaction and publish go on while the next group is fetched and parsed;
        // its offsets are committed once both succeeded.
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
        const consumer = new BatchConsumer({
          kafka,
          logger,
          groupId: `${config.kafka.groupPrefix}${ConsumerGroups.processor}`,
          topics: [config.kafka.topics.activity, config.kafka.topics.alerts],
          fromBeginning: true,
          maxWaitTimeInMs: config.consumer.maxWaitMs,
          minBytes: config.consumer.minBytes,
          maxBytesPerPartition: config.consumer.maxBytesPerPartition,
          concurrency: config.consumer.concurrency,
          // Partitions handled at once share one transaction and one publish.
          handle: (topic, partition, records) => coalescer.submit({ topic, partition, records }),
        });
        await consumer.start();
        processor = consumer;
        started.push({ name: 'processor', stop: () => consumer.stop() });
      }

      let fraud: BatchConsumer | undefined;
      if (config.roles.has('fraud')) {
        const detector = new FraudDetector(config.fraud, config.fraud);
        const raised = this.metrics.counter('fraud_alerts_raised_total', 'Alerts raised by the fraud detector', ['rule']);
        const consumer = new BatchConsumer({
          kafka,
          logger,
          groupId: `${config.kafka.groupPrefix}${ConsumerGroups.fraud}`,
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
        fraud = consumer;
        started.push({ name: 'fraud detector', stop: () => consumer.stop() });
      }

      let server: GatewayServer | undefined;
      let fanout: FanoutConsumer | undefined;
      let hub: StreamHub | undefined;
      if (config.roles.has('gateway')) {
        const delivered = this.metrics.counter('subscription_messages_total', 'Messages written to subscribers');
        const writes = this.metrics.counter('subscription_writes_total', 'Socket writes carrying messages to subscribers (each holds every message its socket got in one turn)');
        const snapshots = this.metrics.counter('dashboard_snapshots_total', 'Dashboard snapshots computed');
        // The live stream starts where the store stands now; earlier events are read from the store.
        const start = Number((await store.query<{ max: number }>('SELECT coalesce(max(seq), 0) AS max FROM activity_events')).rows[0]!.max);
        const sequencer: Sequencer<ProcessedEventMessage> = new Sequencer<ProcessedEventMessage>({
          start,
          gapMs: config.websocket.gapMs,
          deliver: (e) => streamHub.publishEvent(e),
          fill: async (after, upTo) => {
            const rows = await store.query<EventRow & { prev_seq: number }>(
              `SELECT ${EVENT_COLUMNS}, lag(seq, 1, $1::bigint) OVER (ORDER BY seq) AS prev_seq
                 FROM activity_events WHERE seq > $1 AND seq <= $2 ORDER BY seq`,
              [after, upTo],
            );
            return rows.rows.map((r) => ({ ...toStoredEvent(r), prevSeq: Number(r.prev_seq), cursor: encodeCursor('ev', Number(r.seq)) }));
          },
          onError: (err) => logger.warn({ err: (err as Error).message }, 'fan-out gap fill failed; retrying'),
        });
        const streamHub = new StreamHub({
          store,
          createLoaders: () => createLoaders(store),
          logger,
          development: config.development,
          position: () => sequencer.position,
          maxBufferedBytes: config.websocket.maxBufferedBytes,
          maxQueuedEvents: config.websocket.maxQueuedEvents,
          onDelivered: (n) => delivered.inc(n),
          onWrites: (n) => writes.inc(n),
          onSnapshot: () => snapshots.inc(),
        });
        hub = streamHub;
        this.metrics.registry.registerMetric(
          new Gauge({ name: 'subscriptions_active', help: 'Live subscriptions on this instance', registers: [], collect() { this.set(streamHub.subscriberCount); } }),
        );
        this.metrics.registry.registerMetric(
          new Gauge({
            name: 'subscription_selections',
            help: 'Distinct selections among live subscriptions: a message is rendered once per selection it goes to',
            registers: [],
            collect() {
              this.set(streamHub.selectionCount);
            },
          }),
        );
        started.push({ name: 'hub', stop: async () => { deliverLocally = undefined; sequencer.stop(); streamHub.stop(); } });
        if (config.roles.has('processor')) {
          const local = this.metrics.counter('subscription_events_local_total', "Processed events handed to this instance's subscribers by its own processor, ahead of the processed topic");
          deliverLocally = (events) => {
            for (const e of events) sequencer.push(e);
            local.inc(events.length);
          };
        }
        const topics = config.kafka.topics;
        const fanned = this.metrics.counter('fanout_records_total', 'Records read by the fan-out consumer', ['topic']);
        const consumer = new FanoutConsumer({
          kafka,
          logger,
          groupId: `${config.kafka.groupPrefix}${ConsumerGroups.fanout(this.instanceId)}`,
          topics: [topics.processed, topics.alerts],
          maxWaitTimeInMs: config.consumer.maxWaitMs,
          minBytes: config.consumer.minBytes,
          onRecord: (topic, value) => {
            fanned.inc({ topic: topic === topics.processed ? 'processed' : 'alerts' });
            const parsed: unknown = JSON.parse(value.toString('utf8'));
            if (topic === topics.processed) sequencer.push(parsed as ProcessedEventMessage);
            else {
              const a = parseAlert(value);
              if ('alert' in a) streamHub.publishAlert(a.alert);
            }
          },
        });
        await consumer.start();
        fanout = consumer;
        started.push({ name: 'fan-out', stop: () => consumer.stop() });

        const verifier = new TokenVerifier(config.jwt);
        const recorder = (this.options.recorder ?? ((deps: RecorderDeps) => new ActivityRecorder(deps)))({
          publisher,
          store,
          topic: config.kafka.topics.activity,
          limiter: new RateLimiter(config.limits.recordRatePerSecond, config.limits.recordBurst),
          devices: new DeviceDetector(),
          maxBatchSize: config.limits.maxBatchSize,
        });
        const schema = await buildGatewaySchema({ development: config.development, recorder, store });
        const hops = config.trustProxyHops;
        server = new GatewayServer({
          schema,
          verifier,
          metrics: this.metrics,
          logger,
          development: config.development,
          introspection: config.introspection,
          maxBodyBytes: config.limits.maxBodyBytes,
          maxQueryDepth: config.limits.maxQueryDepth,
          maxQueryCost: config.limits.maxQueryCost,
          corsOrigins: config.corsOrigins,
          createLoaders: () => createLoaders(store),
          hub,
          websocket: config.websocket,
          clientInfo: (req) => ({
            ip: clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], hops),
            userAgent: req.headers['user-agent'] ?? null,
          }),
          routes: { 'POST /v1/events': restIngestHandler(verifier, recorder, config.limits.maxBatchSize) },
          readiness: [
            { name: 'kafka', check: () => admin.ping() },
            { name: 'store', check: () => store.ping() },
          ],
        });
        await server.start(config.port, config.host);
        const s = server;
        started.push({ name: 'http server', stop: () => s.stop() });
      }
      this.lifecycle = { state: 'running', resources: { store, admin, server, publisher, processor, processorPublisher, fraud, fanout, hub } };
    } catch (err) {
      for (const part of started.reverse()) {
        await part.stop().catch((e) => logger.warn({ err: e, part: part.name }, 'stop after failed start'));
      }
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
      case 'running': {
        this.lifecycle = { state: 'stopping' };
        const { server, processor, processorPublisher, fraud, publisher, admin, store, fanout, hub } = current.resources;
        const steps: Array<[string, (() => Promise<void>) | undefined]> = [
          ['http server', server && (() => server.stop())],
          ['hub', hub && (async () => hub.stop())],
          ['fan-out', fanout && (() => fanout.stop())],
          ['processor', processor && (() => processor.stop())],
          ['processor publisher', processorPublisher && (() => processorPublisher.stop())],
          ['fraud detector', fraud && (() => fraud.stop())],
          ['publisher', () => publisher.stop()],
          ['kafka admin', () => admin.stop()],
          ['store', () => store.close()],
        ];
        for (const [name, step] of steps) {
          if (!step) continue;
          try {
            await step();
          } catch (err) {
            this.logger.warn({ err, part: name }, 'error while stopping');
          }
        }
        this.lifecycle = { state: 'stopped' };
        this.logger.info('stopped');
        return;
      }
      default:
        throw new UnreachableCaseError(current);
    }
  }
}
