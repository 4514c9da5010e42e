import { severityRank, SEVERITY_ORDER } from '../domain/alerts';
import type { Severity } from '../domain/enums';
import { ALERT_COLUMNS, toStoredAlert, type AlertRow, type StoredAlert } from './rows';
import type { Queryable } from './store';

const atLeast = (min: Severity): string[] => SEVERITY_ORDER.filter((s) => severityRank(s) >= severityRank(min));

/**
 * A page of alerts, newest first, after (older than) `beforeSeq`, optionally of one user and a
 * minimum severity, with how many match in all: one statement, so the page and the count come
 * from the same snapshot (two statements could see an alert committed between them in the count
 * and not in the page).
 */
export async function alertPage(
  db: Queryable,
  q: { userId?: string | null; minSeverity: Severity },
  limit: number,
  beforeSeq: number | null,
): Promise<{ rows: StoredAlert[]; total: number }> {
  const r = await db.query<{ total: number; page: AlertRow[] }>(
    `WITH matching AS (
       SELECT ${ALERT_COLUMNS} FROM fraud_alerts WHERE ($1::text IS NULL OR user_id = $1) AND severity = ANY($2::text[])
     )
     SELECT (SELECT count(*)::int FROM matching) AS total,
            (SELECT coalesce(json_agg(p ORDER BY p.seq DESC), '[]'::json)
               FROM (SELECT * FROM matching WHERE $3::bigint IS NULL OR seq < $3 ORDER BY seq DESC LIMIT $4) p) AS page`,
    [q.userId ?? null, atLeast(q.minSeverity), beforeSeq, limit],
  );
  return { rows: r.rows[0]!.page.map(toStoredAlert), total: r.rows[0]!.total };
}

/** The newest `first` alerts of each user, in one statement. */
export async function recentAlertsOf(db: Queryable, userIds: readonly string[], first: number): Promise<Map<string, StoredAlert[]>> {
  const r = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM (
       SELECT a.*, row_number() OVER (PARTITION BY user_id ORDER BY seq DESC) AS rn FROM fraud_alerts a WHERE user_id = ANY($1::text[])
     ) t WHERE rn <= $2 ORDER BY user_id, seq DESC`,
    [userIds, first],
  );
  const out = new Map<string, StoredAlert[]>();
  for (const row of r.rows) {
    const a = toStoredAlert(row);
    out.set(a.userId, [...(out.get(a.userId) ?? []), a]);
  }
  return out;
}
