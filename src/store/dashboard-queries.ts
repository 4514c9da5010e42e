import type { Queryable } from './store';

/** The live dashboard's figures at one moment. */
export interface DashboardData {
  at: string;
  activeUsers: number;
  eventsPerSecond: number;
  topPages: Array<{ key: string; count: number }>;
  conversionRate: number;
  alertsLastHour: number;
  /** Activity events recorded but not yet processed; null when unknown. */
  processingLag: number | null;
}

/**
 * The live dashboard at `now`, by when events were received: distinct users and purchasing users
 * in the last 5 minutes, events in the last minute, top pages of the last 5 minutes, alerts
 * detected in the last hour. Two statements. The processing lag is not the store's to know (it
 * is in Kafka): `processingLag` reads it meanwhile, and without it the lag is unknown.
 */
export async function dashboardAt(db: Queryable, now: Date, processingLag?: () => Promise<number | null>): Promise<DashboardData> {
  const t = now.getTime();
  const fiveMin = new Date(t - 5 * 60_000).toISOString();
  const oneMin = new Date(t - 60_000).toISOString();
  const hour = new Date(t - 3_600_000).toISOString();
  const at = now.toISOString();
  const lag = (processingLag ? processingLag() : Promise.resolve(null)).catch(() => null);
  const counts = await db.query<{ active: number; purchasers: number; last_minute: number; alerts: number }>(
    `SELECT count(DISTINCT user_id)::int AS active,
            count(DISTINCT user_id) FILTER (WHERE type = 'PURCHASE')::int AS purchasers,
            count(*) FILTER (WHERE received_at >= $2)::int AS last_minute,
            (SELECT count(*)::int FROM fraud_alerts WHERE detected_at >= $3 AND detected_at <= $4) AS alerts
       FROM activity_events WHERE received_at >= $1 AND received_at <= $4`,
    [fiveMin, oneMin, hour, at],
  );
  const pages = await db.query<{ key: string; count: number }>(
    `SELECT page_url AS key, count(*)::int AS count FROM activity_events
      WHERE received_at >= $1 AND received_at <= $2 AND page_url IS NOT NULL
      GROUP BY page_url ORDER BY count(*) DESC, page_url LIMIT 10`,
    [fiveMin, at],
  );
  const c = counts.rows[0]!;
  return {
    at,
    activeUsers: c.active,
    eventsPerSecond: Math.round((c.last_minute / 60) * 1000) / 1000,
    topPages: pages.rows,
    conversionRate: c.active === 0 ? 0 : Math.round((c.purchasers / c.active) * 10_000) / 10_000,
    alertsLastHour: c.alerts,
    processingLag: await lag,
  };
}
