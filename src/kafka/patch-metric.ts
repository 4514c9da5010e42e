import { Gauge, type Registry } from 'prom-client';
import type { KafkaPatchOutcome } from './patches';

/**
 * Registers `kafka_patch_installed{patch}` on `registry`: 1 for each KafkaJS change of `report`
 * that is in place, 0 for one that was skipped, so a dashboard or alert sees a KafkaJS upgrade
 * that silently dropped one (docs/kafka-patches.md).
 */
export function registerKafkaPatchMetric(registry: Registry, report: readonly KafkaPatchOutcome[]): Gauge<'patch'> {
  const gauge = new Gauge({
    name: 'kafka_patch_installed',
    help: 'Whether a change to KafkaJS (docs/kafka-patches.md) is in place: 1 installed, 0 skipped',
    labelNames: ['patch'],
    registers: [registry],
  });
  for (const o of report) gauge.set({ patch: o.patch }, o.status === 'installed' ? 1 : 0);
  return gauge;
}
