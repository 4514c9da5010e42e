import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths';
import { FraudRule, Severity } from './enums';

/** A fraud alert as it travels on the alert topic (CONTRACT.md section 5). */
export interface FraudAlertMessage {
  alertId: string;
  userId: string;
  rule: FraudRule;
  severity: Severity;
  message: string;
  detectedAt: string;
  eventIds: string[];
  details: Record<string, unknown>;
}

export const SEVERITY_ORDER: readonly Severity[] = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL];
export const severityRank = (s: Severity): number => SEVERITY_ORDER.indexOf(s);

/** How much one alert of each severity raises a user's risk. */
export const SEVERITY_WEIGHT: Record<Severity, number> = {
  [Severity.LOW]: 0.1,
  [Severity.MEDIUM]: 0.25,
  [Severity.HIGH]: 0.5,
  [Severity.CRITICAL]: 0.8,
};

/** Alerts older than this no longer count towards the risk score. */
export const RISK_WINDOW_DAYS = 30;

/**
 * A user's risk score in [0, 1]: the chance that at least one of its recent alerts is real, if
 * each alert of severity s is real with probability weight(s) independently:
 * `1 - Π (1 - weight(severity))` over the alerts of the last 30 days. No alerts: 0.
 */
export function riskScore(severities: readonly Severity[]): number {
  let clean = 1;
  for (const s of severities) clean *= 1 - SEVERITY_WEIGHT[s];
  return Math.round((1 - clean) * 10_000) / 10_000;
}

let compiled: ValidateFunction<FraudAlertMessage> | undefined;

/** Parses an alert-topic value, or says why it is not an alert. */
export function parseAlert(value: Buffer | null): { alert: FraudAlertMessage } | { reason: string } {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
    addFormats(ajv, ['date-time']);
    compiled = ajv.compile<FraudAlertMessage>(JSON.parse(readFileSync(join(projectRoot(), 'schemas', 'fraud-alert.v1.json'), 'utf8')));
  }
  if (value === null) return { reason: 'empty value (tombstone)' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { reason: `not JSON: ${(err as Error).message}` };
  }
  if (!compiled(parsed)) {
    return { reason: `schema: ${(compiled.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ')}`.slice(0, 1000) };
  }
  // PostgreSQL's text and jsonb cannot hold U+0000 (the raw text has it only as an escape).
  if (value.includes('\\u0000') && JSON.stringify(parsed).includes('\\u0000')) return { reason: 'schema: must not contain U+0000' };
  return { alert: { ...parsed, detectedAt: new Date(parsed.detectedAt).toISOString() } };
}
