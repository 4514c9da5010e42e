import type { ActivityValue } from '../domain/activity';
import type { FraudAlertMessage } from '../domain/alerts';
import type { ProfileState } from '../domain/profile';
import type { UserSegment } from '../domain/enums';
import type { StoredEvent } from '../domain/processed-event';


/** The columns of an EventRow, as a SELECT list. */
export const EVENT_COLUMNS = `seq, event_id, user_id, type, occurred_at, received_at, processed_at, session_id, content_id,
  page_url, referrer, properties, device, location, ip_address, user_agent, kafka_partition, kafka_offset`;

/** An activity_events row as both drivers return it (timestamps as Date or text). */
export interface EventRow {
  seq: number;
  event_id: string;
  user_id: string;
  type: ActivityValue['type'];
  occurred_at: Date | string;
  received_at: Date | string;
  processed_at: Date | string;
  session_id: string | null;
  content_id: string | null;
  page_url: string | null;
  referrer: string | null;
  properties: Record<string, unknown>;
  device: ActivityValue['device'];
  location: ActivityValue['location'];
  ip_address: string | null;
  user_agent: string | null;
  kafka_partition: number;
  kafka_offset: number | string;
}

/** A timestamp as `toISOString()` gives it, whichever form the driver returned. */
export const iso = (d: Date | string): string => new Date(d).toISOString();

export function toStoredEvent(r: EventRow): StoredEvent {
  return {
    schemaVersion: 1,
    seq: Number(r.seq),
    eventId: r.event_id,
    userId: r.user_id,
    type: r.type,
    occurredAt: iso(r.occurred_at),
    receivedAt: iso(r.received_at),
    processedAt: iso(r.processed_at),
    sessionId: r.session_id,
    contentId: r.content_id,
    pageUrl: r.page_url,
    referrer: r.referrer,
    properties: r.properties ?? {},
    device: r.device,
    location: r.location,
    ipAddress: r.ip_address,
    userAgent: r.user_agent,
    partition: r.kafka_partition,
    offset: String(r.kafka_offset),
  };
}

/** A user_profiles row. */
export interface ProfileRow {
  user_id: string;
  first_seen_at: Date | string | null;
  last_seen_at: Date | string | null;
  total_events: number;
  event_counts: Record<string, number>;
  session_count: number;
  purchase_count: number;
  total_spent: number;
  devices: Record<string, number>;
  countries: Record<string, number>;
  preferences: Record<string, number>;
  completion_sum: number;
  completion_count: number;
  segment: UserSegment;
  risk_score: number;
}

/** The columns of a ProfileRow, as a SELECT list. */
export const PROFILE_COLUMNS = `user_id, first_seen_at, last_seen_at, total_events, event_counts, session_count, purchase_count,
  total_spent, devices, countries, preferences, completion_sum, completion_count, segment, risk_score`;

export function toProfile(r: ProfileRow): ProfileState {
  return {
    userId: r.user_id,
    firstSeenAt: r.first_seen_at === null ? null : iso(r.first_seen_at),
    lastSeenAt: r.last_seen_at === null ? null : iso(r.last_seen_at),
    totalEvents: Number(r.total_events),
    eventCounts: r.event_counts,
    sessionCount: Number(r.session_count),
    purchaseCount: Number(r.purchase_count),
    totalSpent: Number(r.total_spent),
    devices: r.devices,
    countries: r.countries,
    preferences: r.preferences,
    completionSum: Number(r.completion_sum),
    completionCount: Number(r.completion_count),
    segment: r.segment,
    riskScore: Number(r.risk_score),
  };
}

/** An alert as stored. */
export interface StoredAlert extends FraudAlertMessage {
  seq: number;
}

/** A fraud_alerts row. */
export interface AlertRow {
  seq: number;
  alert_id: string;
  user_id: string;
  rule: FraudAlertMessage['rule'];
  severity: FraudAlertMessage['severity'];
  message: string;
  detected_at: Date | string;
  event_ids: string[];
  details: Record<string, unknown>;
}

/** The columns of an AlertRow, as a SELECT list. */
export const ALERT_COLUMNS = 'seq, alert_id, user_id, rule, severity, message, detected_at, event_ids, details';

export function toStoredAlert(r: AlertRow): StoredAlert {
  return {
    seq: Number(r.seq),
    alertId: r.alert_id,
    userId: r.user_id,
    rule: r.rule,
    severity: r.severity,
    message: r.message,
    detectedAt: iso(r.detected_at),
    eventIds: r.event_ids,
    details: r.details,
  };
}
