import { ActivityType, UserSegment } from './enums';
import type { ActivityValue } from './activity';

/**
 * A user's profile as the processor keeps it. Pure data: `applyEvents` folds events into it and
 * everything here is deterministic, so replaying the same log yields the same profile.
 */
export interface ProfileState {
  userId: string;
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  totalEvents: number;
  eventCounts: Record<string, number>;
  sessionCount: number;
  purchaseCount: number;
  totalSpent: number;
  devices: Record<string, number>;
  countries: Record<string, number>;
  /** `category:<name>` and `content:<id>` → weight of the user's interactions with it. */
  preferences: Record<string, number>;
  completionSum: number;
  completionCount: number;
  segment: UserSegment;
  riskScore: number;
}

export const emptyProfile = (userId: string): ProfileState => ({
  userId,
  firstSeenAt: null,
  lastSeenAt: null,
  totalEvents: 0,
  eventCounts: {},
  sessionCount: 0,
  purchaseCount: 0,
  totalSpent: 0,
  devices: {},
  countries: {},
  preferences: {},
  completionSum: 0,
  completionCount: 0,
  segment: UserSegment.NEW,
  riskScore: 0,
});

/** How much an interaction says about interest in its content or category. */
export const PREFERENCE_WEIGHTS: Partial<Record<ActivityType, number>> = {
  [ActivityType.PURCHASE]: 5,
  [ActivityType.ADD_TO_CART]: 3,
  [ActivityType.PLAYBACK_COMPLETE]: 3,
  [ActivityType.PLAYBACK_START]: 1,
  [ActivityType.CONTENT_VIEW]: 1,
  [ActivityType.PRODUCT_VIEW]: 1,
  [ActivityType.SEARCH_RESULT_CLICK]: 1,
  [ActivityType.CLICK]: 0.5,
  [ActivityType.PAGE_VIEW]: 0.25,
  [ActivityType.PLAYBACK_ABANDON]: -1,
};

/** Preferences kept per user: the strongest ones, so a profile stays small. */
export const MAX_PREFERENCES = 50;

/** A rating of 0..5 weighs from -2 (0 stars) to +3 (5 stars). */
export const ratingWeight = (rating: number): number => rating - 2;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** What a PURCHASE spends: price × quantity, or amount. */
export function purchaseValue(e: Pick<ActivityValue, 'properties'>): number {
  const price = num(e.properties.price);
  const amount = num(e.properties.amount);
  const quantity = num(e.properties.quantity) ?? 1;
  if (price !== null) return price * quantity;
  return amount ?? 0;
}

/** Playback completion of one event: positionSeconds / durationSeconds clamped to [0, 1], when both are there. */
export function completionOf(e: Pick<ActivityValue, 'properties'>): number | null {
  const pos = num(e.properties.positionSeconds);
  const dur = num(e.properties.durationSeconds);
  if (pos === null || dur === null || dur <= 0) return null;
  return Math.min(1, Math.max(0, pos / dur));
}

const PLAYBACK = new Set<string>([
  ActivityType.PLAYBACK_START,
  ActivityType.PLAYBACK_PAUSE,
  ActivityType.PLAYBACK_RESUME,
  ActivityType.PLAYBACK_COMPLETE,
  ActivityType.PLAYBACK_ABANDON,
]);
const RESEARCH = new Set<string>([ActivityType.SEARCH, ActivityType.SEARCH_RESULT_CLICK, ActivityType.PRODUCT_VIEW]);

/** Below this many events a user without purchases is NEW. */
export const NEW_USER_EVENTS = 5;
/** A user whose share of searches and product views reaches this is a RESEARCHER. */
export const RESEARCH_SHARE = 0.3;

/**
 * The segment, by these rules in order:
 * BUYER: at least one purchase; NEW: fewer than 5 events; RESEARCHER: searches, result clicks
 * and product views are at least 30% of the events; BROWSER: everyone else.
 */
export function segmentOf(p: Pick<ProfileState, 'purchaseCount' | 'totalEvents' | 'eventCounts'>): UserSegment {
  if (p.purchaseCount > 0) return UserSegment.BUYER;
  if (p.totalEvents < NEW_USER_EVENTS) return UserSegment.NEW;
  let research = 0;
  for (const [type, n] of Object.entries(p.eventCounts)) if (RESEARCH.has(type)) research += n;
  return research / p.totalEvents >= RESEARCH_SHARE ? UserSegment.RESEARCHER : UserSegment.BROWSER;
}

const bump = (m: Record<string, number>, key: string, by = 1): void => {
  m[key] = (m[key] ?? 0) + by;
};

function prunePreferences(prefs: Record<string, number>): Record<string, number> {
  const entries = Object.entries(prefs).filter(([, v]) => v !== 0);
  if (entries.length <= MAX_PREFERENCES) return Object.fromEntries(entries);
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return Object.fromEntries(entries.slice(0, MAX_PREFERENCES));
}

/**
 * Folds `events` (one user's, in log order) into `profile`. `newSessions` is how many of the
 * events' sessions were not seen before (the store knows). Returns a new profile.
 */
export function applyEvents(profile: ProfileState, events: readonly ActivityValue[], newSessions: number): ProfileState {
  const p: ProfileState = {
    ...profile,
    eventCounts: { ...profile.eventCounts },
    devices: { ...profile.devices },
    countries: { ...profile.countries },
    preferences: { ...profile.preferences },
  };
  for (const e of events) {
    p.totalEvents += 1;
    bump(p.eventCounts, e.type);
    if (p.firstSeenAt === null || e.occurredAt < p.firstSeenAt) p.firstSeenAt = e.occurredAt;
    if (p.lastSeenAt === null || e.occurredAt > p.lastSeenAt) p.lastSeenAt = e.occurredAt;
    if (e.type === ActivityType.PURCHASE) {
      p.purchaseCount += 1;
      p.totalSpent = Math.round((p.totalSpent + purchaseValue(e)) * 100) / 100;
    }
    if (e.device?.type) bump(p.devices, e.device.type);
    if (e.location?.country) bump(p.countries, e.location.country);

    let weight = PREFERENCE_WEIGHTS[e.type] ?? 0;
    if (e.type === ActivityType.CONTENT_RATING) weight = ratingWeight(num(e.properties.rating) ?? 2);
    if (weight !== 0) {
      const category = e.properties.category;
      if (typeof category === 'string' && category !== '') bump(p.preferences, `category:${category}`, weight);
      if (e.contentId) bump(p.preferences, `content:${e.contentId}`, weight);
    }
    if (PLAYBACK.has(e.type)) {
      const c = completionOf(e);
      if (c !== null) {
        p.completionSum += c;
        p.completionCount += 1;
      }
    }
  }
  p.sessionCount += newSessions;
  p.preferences = prunePreferences(p.preferences);
  p.segment = segmentOf(p);
  return p;
}

/** Average playback completion, or null without playback progress. */
export const averageCompletion = (p: Pick<ProfileState, 'completionSum' | 'completionCount'>): number | null =>
  p.completionCount === 0 ? null : p.completionSum / p.completionCount;

/** Key/count pairs, largest first (ties by key), for maps kept in a profile. */
export function ranked(m: Record<string, number>): Array<{ key: string; count: number }> {
  return Object.entries(m)
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
}
