import type { FraudAlertMessage } from '../domain/alerts';
import type { ConsumedBatchRecord } from '../kafka/batch-consumer';
import type { OutgoingRecord } from '../domain/publishing';
import { parseActivity } from '../processing/processor';
import type { FraudDetector } from './detector';

/** Runs a consumed batch through the detector; records that are not valid activities are skipped. */
export function detectAlerts(detector: FraudDetector, records: ConsumedBatchRecord[]): FraudAlertMessage[] {
  const alerts: FraudAlertMessage[] = [];
  for (const r of records) {
    const p = parseActivity(r.value);
    if ('value' in p) alerts.push(...detector.observe(p.value));
  }
  return alerts;
}

/** An alert as a record of the alert topic (CONTRACT.md section 5): keyed by user, JSON. */
export function alertRecord(topic: string, a: FraudAlertMessage): OutgoingRecord {
  return {
    topic,
    key: a.userId,
    value: JSON.stringify(a),
    headers: { 'alert-rule': a.rule, severity: a.severity, 'content-type': 'application/json' },
  };
}
