import { riskScore, RISK_WINDOW_DAYS, type FraudAlertMessage } from '../domain/alerts';
import { writeFailed, type FailedRecord } from './failed-writer';
import type { Queryable } from './store';

type Severity = FraudAlertMessage['severity'];

/** The oldest detection time a risk score at `now` counts. */
const riskWindowStart = (now: Date): string => new Date(now.getTime() - RISK_WINDOW_DAYS * 86_400_000).toISOString();

/** Sets each user's risk score from the severities of their alerts in the window (a user with no profile yet gets one). */
async function writeRiskScores(tx: Queryable, severities: ReadonlyMap<string, Severity[]>): Promise<void> {
  const users = [...severities.keys()];
  await tx.query(
    `INSERT INTO user_profiles (user_id, risk_score) SELECT * FROM unnest($1::text[], $2::float8[])
     ON CONFLICT (user_id) DO UPDATE SET risk_score = EXCLUDED.risk_score, updated_at = now()`,
    [users, users.map((u) => riskScore(severities.get(u)!))],
  );
}

/**
 * Stores alerts (an alertId already stored is skipped) and recomputes the risk score of the
 * users that got new ones from their alerts in the risk window. Returns how many were new.
 */
export async function writeAlerts(tx: Queryable, alerts: FraudAlertMessage[], failed: FailedRecord[], now: Date): Promise<number> {
  let inserted = 0;
  if (alerts.length > 0) {
    const r = await tx.query<{ user_id: string }>(
      `INSERT INTO fraud_alerts (alert_id, user_id, rule, severity, message, detected_at, event_ids, details)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[], $8::jsonb[])
       ON CONFLICT (alert_id) DO NOTHING RETURNING user_id`,
      [
        alerts.map((a) => a.alertId),
        alerts.map((a) => a.userId),
        alerts.map((a) => a.rule),
        alerts.map((a) => a.severity),
        alerts.map((a) => a.message),
        alerts.map((a) => a.detectedAt),
        alerts.map((a) => JSON.stringify(a.eventIds)),
        alerts.map((a) => JSON.stringify(a.details)),
      ],
    );
    inserted = r.rows.length;
    const users = [...new Set(r.rows.map((x) => x.user_id))].sort();
    if (users.length > 0) {
      const sev = await tx.query<{ user_id: string; severity: Severity }>(
        'SELECT user_id, severity FROM fraud_alerts WHERE user_id = ANY($1::text[]) AND detected_at >= $2',
        [users, riskWindowStart(now)],
      );
      const byUser = new Map<string, Severity[]>(users.map((u) => [u, []]));
      for (const row of sev.rows) byUser.get(row.user_id)!.push(row.severity);
      await writeRiskScores(tx, byUser);
    }
  }
  if (failed.length > 0) await writeFailed(tx, failed);
  return inserted;
}

/** Recomputes the risk score of every user with recent alerts (after a rebuild). */
export async function recomputeRisk(tx: Queryable, now: Date): Promise<void> {
  const r = await tx.query<{ user_id: string; severity: Severity }>(
    'SELECT user_id, severity FROM fraud_alerts WHERE detected_at >= $1 ORDER BY user_id',
    [riskWindowStart(now)],
  );
  const byUser = new Map<string, Severity[]>();
  for (const row of r.rows) {
    let list = byUser.get(row.user_id);
    if (!list) byUser.set(row.user_id, (list = []));
    list.push(row.severity);
  }
  if (byUser.size > 0) await writeRiskScores(tx, byUser);
}

