import { parseProcessedEvent, type ProcessedEventMessage } from '../domain/processed-event';
import { Gauge } from 'prom-client';
import { parseAlert } from '../domain/alerts';
import { FanoutConsumer } from '../kafka/fanout-consumer';
import { ConsumerGroups } from '../kafka/topics';

import { createLoaders } from '../resolvers/loaders';
import { eventsInSeqRange, latestSeq } from '../store/event-queries';
import { StreamHub } from '../streaming/hub';
import { Sequencer } from '../streaming/sequencer';
import type { RoleEnv } from './role-env';

/** A gateway's live stream: the hub its subscribers register with, fed in processing order. */
export interface LiveStream {
  hub: StreamHub;
  /** Hands stored events to this instance's subscribers ahead of the processed topic. */
  deliverLocally(events: ProcessedEventMessage[]): void;
}

/**
 * Starts the hub, the sequencer that puts processed events back in order (filling gaps from the
 * store), and this instance's fan-out consumer of the processed and alert topics.
 */
export async function startLiveStream(env: RoleEnv, instanceId: string): Promise<LiveStream> {
  const { config, logger, metrics, store, kafka, parts, lag, processingLag } = env;
  const delivered = metrics.counter('subscription_messages_total', 'Messages written to subscribers');
  const writes = metrics.counter('subscription_writes_total', 'Socket writes carrying messages to subscribers (each holds every message its socket got in one turn)');
  const snapshots = metrics.counter('dashboard_snapshots_total', 'Dashboard snapshots computed');
  const fanned = metrics.counter('fanout_records_total', 'Records read by the fan-out consumer', ['topic']);
  const unreadable = metrics.counter('fanout_unreadable_records_total', 'Processed-topic records the fan-out consumer skipped because they are not processed events');

  // The live stream starts where the store stands now; earlier events are read from the store.
  const start = await latestSeq(store);
  const sequencer: Sequencer<ProcessedEventMessage> = new Sequencer<ProcessedEventMessage>({
    start,
    gapMs: config.websocket.gapMs,
    deliver: (e) => hub.publishEvent(e),
    fill: (after, upTo) => eventsInSeqRange(store, after, upTo),
    onError: (err) => logger.warn({ err: (err as Error).message }, 'fan-out gap fill failed; retrying'),
  });
  const hub = new StreamHub({
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
    processingLag,
  });
  let open = true;
  parts.add('hub', () => {
    open = false;
    sequencer.stop();
    hub.stop();
  });
  metrics.registry.registerMetric(
    new Gauge({ name: 'subscriptions_active', help: 'Live subscriptions on this instance', registers: [], collect() { this.set(hub.subscriberCount); } }),
  );
  metrics.registry.registerMetric(
    new Gauge({
      name: 'subscription_selections',
      help: 'Distinct selections among live subscriptions: a message is rendered once per selection it goes to',
      registers: [],
      collect() {
        this.set(hub.selectionCount);
      },
    }),
  );

  const topics = config.kafka.topics;
  const consumer = new FanoutConsumer({
    // It commits nothing, so its lag is measured from its own position.
    kafka: lag.watchPositions(kafka),
    logger,
    groupId: `${config.kafka.groupPrefix}${ConsumerGroups.fanout(instanceId)}`,
    topics: [topics.processed, topics.alerts],
    maxWaitTimeInMs: config.consumer.maxWaitMs,
    minBytes: config.consumer.minBytes,
    onRecord: (topic, value) => {
      fanned.inc({ topic: topic === topics.processed ? 'processed' : 'alerts' });
      if (topic === topics.processed) {
        const parsed = parseProcessedEvent(value);
        if ('event' in parsed) sequencer.push(parsed.event);
        else {
          unreadable.inc();
          logger.warn({ reason: parsed.reason }, 'skipped a processed-topic record that is not a processed event');
        }
        return;
      }
      const a = parseAlert(value);
      if ('alert' in a) hub.publishAlert(a.alert);
    },
  });
  await consumer.start();
  parts.add('fan-out', () => consumer.stop());

  // Only a process that runs the processor too has events of its own to hand over.
  const local = config.roles.has('processor')
    ? metrics.counter('subscription_events_local_total', "Processed events handed to this instance's subscribers by its own processor, ahead of the processed topic")
    : undefined;
  return {
    hub,
    deliverLocally(events) {
      if (!open || !local) return;
      for (const e of events) sequencer.push(e);
      local.inc(events.length);
    },
  };
}
