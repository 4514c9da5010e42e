import { ActivityType, DeviceType } from './enums';

export { ActivityType, DeviceType };

/** The schema version written in every activity value (`schemaVersion`, header `schema-version`). */
export const SCHEMA_VERSION = 1;

export interface DeviceInfo {
  id?: string | null;
  type?: DeviceType | null;
  os?: string | null;
  browser?: string | null;
}

export interface LocationInfo {
  country?: string | null;
  city?: string | null;
  region?: string | null;
  timezone?: string | null;
}

/** What a client sends to record one event (GraphQL `RecordActivityInput`, or a REST body item). */
export interface RecordInput {
  eventId?: string | null;
  userId?: string | null;
  type: ActivityType;
  occurredAt?: Date | null;
  sentAt?: Date | null;
  sessionId?: string | null;
  contentId?: string | null;
  pageUrl?: string | null;
  referrer?: string | null;
  properties?: Record<string, unknown> | null;
  device?: DeviceInfo | null;
  location?: LocationInfo | null;
}

/**
 * The value of a record on the activity topic (CONTRACT.md section 5): JSON, camelCase, dates
 * as ISO strings. Described by schemas/activity-event.v1.json.
 */
export interface ActivityValue {
  schemaVersion: typeof SCHEMA_VERSION;
  eventId: string;
  userId: string;
  type: ActivityType;
  occurredAt: string;
  receivedAt: string;
  sessionId: string | null;
  contentId: string | null;
  pageUrl: string | null;
  referrer: string | null;
  properties: Record<string, unknown>;
  device: DeviceInfo | null;
  location: LocationInfo | null;
  ipAddress: string | null;
  userAgent: string | null;
}

/** Headers of an activity record (CONTRACT.md section 5). */
export function activityHeaders(value: ActivityValue): Record<string, string> {
  const key = `${value.type}:${value.schemaVersion}`;
  let h = HEADERS.get(key);
  if (!h) {
    h = Object.freeze({ 'event-type': value.type, 'schema-version': String(value.schemaVersion), 'content-type': 'application/json' });
    HEADERS.set(key, h);
  }
  return h;
}

/** One headers object per type (they are only read), not one per record. */
const HEADERS = new Map<string, Readonly<Record<string, string>>>();
