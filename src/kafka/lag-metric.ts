import { Gauge, type Registry } from 'prom-client';
import type { ConsumerLag } from './consumer-lag';

/**
 * Registers `kafka_consumer_lag{group, topic, partition}` on `registry`, read from `lag` at each
 * scrape: every series is set afresh, so one the broker did not answer for is missing rather
 * than showing a value of before.
 */
export function registerConsumerLagMetric(registry: Registry, lag: ConsumerLag): Gauge<'group' | 'topic' | 'partition'> {
  return new Gauge({
    name: 'kafka_consumer_lag',
    help: "Records a consumer group has yet to handle: the partition's log end offset minus the group's committed offset (the fan-out, which commits nothing: minus its position)",
    labelNames: ['group', 'topic', 'partition'],
    registers: [registry],
    async collect() {
      const lags = await lag.read();
      this.reset();
      for (const l of lags) this.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
    },
  });
}
