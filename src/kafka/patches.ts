import { installDirectProduceRequest } from './direct-produce-request';
import { installDirectRecordEncoder } from './direct-record-encoder';
import { installIdleRequestQueue } from './idle-request-queue';
import { installLinearGrouping } from './linear-grouping';
import type { InstallResult } from './module-export';
import { installPooledEncoder } from './pooled-encoder';

/**
 * The gateway's changes to KafkaJS 2.2.4, installed in one place and on purpose: by
 * `installKafkaPatches`, which `createKafka` runs before it loads KafkaJS. No module installs one
 * when it is imported. What each changes, its upstream issue, its gain and when it can go are in
 * docs/kafka-patches.md; a change missing from this list is a change not declared there.
 */

/** Every change, in install order: the pooled Encoder first, so the direct encodings take it. */
export const KAFKA_PATCHES = ['pooled-encoder', 'linear-grouping', 'direct-record-encoder', 'direct-produce-request', 'idle-request-queue'] as const;
export type KafkaPatchName = (typeof KAFKA_PATCHES)[number];

/** What installing one change did. */
export interface KafkaPatchOutcome {
  patch: KafkaPatchName;
  status: 'installed' | 'skipped';
  /** Why a skipped change is not in place. */
  reason?: string;
}

export interface InstallKafkaPatchesOptions {
  /**
   * The KafkaJS module a change targets, in place of the one KafkaJS 2.2.4 has: what a test uses
   * to make a change's target look wrong (as after an upgrade that moved it).
   */
  targets?: Partial<Record<KafkaPatchName, string>>;
}

const INSTALLERS: Record<KafkaPatchName, (target?: string) => InstallResult> = {
  'pooled-encoder': installPooledEncoder,
  'linear-grouping': installLinearGrouping,
  'direct-record-encoder': installDirectRecordEncoder,
  'direct-produce-request': installDirectProduceRequest,
  'idle-request-queue': installIdleRequestQueue,
};

let ran = false;

/** Whether `installKafkaPatches` has run in this module registry. */
export function kafkaPatchesRan(): boolean {
  return ran;
}

/**
 * Installs every change that is not in place yet (each once; running this again only reports) and
 * says, change by change, whether it is installed or why it was skipped. A skipped change leaves
 * KafkaJS as shipped for what it covers. Must run before KafkaJS's entry module loads: the export
 * replacements report themselves skipped after that.
 */
export function installKafkaPatches(options: InstallKafkaPatchesOptions = {}): KafkaPatchOutcome[] {
  ran = true;
  return KAFKA_PATCHES.map((patch) => {
    const target = options.targets?.[patch];
    let result: InstallResult;
    try {
      result = target === undefined ? INSTALLERS[patch]() : INSTALLERS[patch](target);
    } catch (err) {
      result = { installed: false, reason: `install failed: ${(err as Error).message}` };
    }
    return result.installed ? { patch, status: 'installed' } : { patch, status: 'skipped', reason: result.reason };
  });
}

/** The changes of `report` that are not in place. */
export function skippedPatches(report: readonly KafkaPatchOutcome[]): KafkaPatchOutcome[] {
  return report.filter((o) => o.status !== 'installed');
}
