import { createHash } from 'node:crypto';
import type { ActivityValue } from '../domain/activity';
import type { FraudAlertMessage } from '../domain/alerts';
import { purchaseValue } from '../domain/profile';
import { ActivityType, FraudRule, Severity } from '../domain/enums';

/** Thresholds and severities of the fraud rules (configurable: FRAUD_* variables). */
export interface FraudThresholds {
  /** HIGH_VELOCITY: this many events from one user within one minute. */
  velocityEvents: number;
  velocityWindowMs: number;
  velocitySeverity: Severity;
  /** PURCHASE_VELOCITY: this many purchases within the window. */
  purchaseCount: number;
  purchaseWindowMs: number;
  purchaseSeverity: Severity;
  /** HIGH_VALUE_PURCHASE: a purchase above this, or above `highValueMultiple` × the user's usual order
   * (after `highValueMinHistory` earlier purchases) and above `highValueFloor`. */
  highValueAbsolute: number;
  highValueMultiple: number;
  highValueMinHistory: number;
  highValueFloor: number;
  highValueSeverity: Severity;
  /** MULTIPLE_IPS: this many distinct IP addresses within the window. */
  distinctIps: number;
  ipWindowMs: number;
  ipSeverity: Severity;
  /** GEO_JUMP: two countries within this time of each other. */
  geoJumpMs: number;
  geoSeverity: Severity;
}

export const DEFAULT_THRESHOLDS: FraudThresholds = {
  velocityEvents: 30,
  velocityWindowMs: 60_000,
  velocitySeverity: Severity.MEDIUM,
  purchaseCount: 5,
  purchaseWindowMs: 10 * 60_000,
  purchaseSeverity: Severity.HIGH,
  highValueAbsolute: 5_000,
  highValueMultiple: 10,
  highValueMinHistory: 3,
  highValueFloor: 500,
  highValueSeverity: Severity.HIGH,
  distinctIps: 4,
  ipWindowMs: 10 * 60_000,
  ipSeverity: Severity.MEDIUM,
  geoJumpMs: 60 * 60_000,
  geoSeverity: Severity.HIGH,
};

/** What the rules know of a user: recent events in receipt order, and its order history. */
export interface UserHistory {
  userId: string;
  /** Recent events (the newest last), at least as far back as the longest window. */
  events: readonly ActivityValue[];
  /** Purchases before the recent ones count too: how many and their total value. */
  priorPurchases: number;
  priorSpend: number;
}

const time = (e: ActivityValue): number => Date.parse(e.receivedAt);

/** A deterministic alert id: the same rule, user and evidence always give the same id. */
export function alertId(rule: FraudRule, userId: string, evidence: string): string {
  const h = createHash('sha256').update(`${rule}\u0000${userId}\u0000${evidence}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Events of the history within `windowMs` before (and including) the newest event. */
function window(h: UserHistory, windowMs: number, pick: (e: ActivityValue) => boolean = () => true): ActivityValue[] {
  const newest = h.events.at(-1);
  if (!newest) return [];
  const from = time(newest) - windowMs;
  return h.events.filter((e) => time(e) > from && pick(e));
}

function alert(
  rule: FraudRule,
  severity: Severity,
  h: UserHistory,
  windowEvents: readonly ActivityValue[],
  message: string,
  details: Record<string, unknown>,
): FraudAlertMessage {
  const trigger = h.events.at(-1)!;
  // The evidence: the window's first event, so a burst raises one alert however long it goes on.
  return {
    alertId: alertId(rule, h.userId, windowEvents[0]!.eventId),
    userId: h.userId,
    rule,
    severity,
    message,
    detectedAt: trigger.receivedAt,
    eventIds: windowEvents.map((e) => e.eventId).slice(-100),
    details,
  };
}

/**
 * Rules are judged as each event arrives (the newest in `h.events`). A counting rule fires when
 * the newest event is the one that brings its window to the threshold, so a sustained burst raises
 * one alert, not one per event.
 */
export function highVelocity(h: UserHistory, t: FraudThresholds): FraudAlertMessage | null {
  const w = window(h, t.velocityWindowMs);
  if (w.length !== t.velocityEvents) return null;
  return alert(FraudRule.HIGH_VELOCITY, t.velocitySeverity, h, w, `${w.length} events within ${t.velocityWindowMs / 1000} s`, {
    events: w.length,
    windowSeconds: t.velocityWindowMs / 1000,
  });
}

export function purchaseVelocity(h: UserHistory, t: FraudThresholds): FraudAlertMessage | null {
  if (h.events.at(-1)?.type !== ActivityType.PURCHASE) return null;
  const w = window(h, t.purchaseWindowMs, (e) => e.type === ActivityType.PURCHASE);
  if (w.length !== t.purchaseCount) return null;
  return alert(FraudRule.PURCHASE_VELOCITY, t.purchaseSeverity, h, w, `${w.length} purchases within ${t.purchaseWindowMs / 60_000} min`, {
    purchases: w.length,
    windowMinutes: t.purchaseWindowMs / 60_000,
  });
}

export function highValuePurchase(h: UserHistory, t: FraudThresholds): FraudAlertMessage | null {
  const e = h.events.at(-1);
  if (!e || e.type !== ActivityType.PURCHASE) return null;
  const value = purchaseValue(e);
  // The usual order: every purchase before this one, recent or not.
  const earlier = h.events.slice(0, -1).filter((x) => x.type === ActivityType.PURCHASE);
  const count = h.priorPurchases + earlier.length;
  const spend = h.priorSpend + earlier.reduce((s, x) => s + purchaseValue(x), 0);
  const usual = count > 0 ? spend / count : null;
  const absolute = value > t.highValueAbsolute;
  const unusual = usual !== null && count >= t.highValueMinHistory && value > t.highValueFloor && value > t.highValueMultiple * usual;
  if (!absolute && !unusual) return null;
  return alert(
    FraudRule.HIGH_VALUE_PURCHASE,
    t.highValueSeverity,
    h,
    [e],
    absolute ? `a purchase of ${value} exceeds ${t.highValueAbsolute}` : `a purchase of ${value} is over ${t.highValueMultiple}× the usual ${usual!.toFixed(2)}`,
    { value, usualOrderValue: usual, threshold: t.highValueAbsolute },
  );
}

export function multipleIps(h: UserHistory, t: FraudThresholds): FraudAlertMessage | null {
  const newest = h.events.at(-1);
  if (!newest?.ipAddress) return null;
  const w = window(h, t.ipWindowMs, (e) => e.ipAddress !== null);
  const ips = [...new Set(w.map((e) => e.ipAddress!))];
  // Fires when the newest event brings a new address that makes the count reach the threshold.
  if (ips.length !== t.distinctIps) return null;
  if (w.slice(0, -1).some((e) => e.ipAddress === newest.ipAddress)) return null;
  return alert(FraudRule.MULTIPLE_IPS, t.ipSeverity, h, w, `${ips.length} IP addresses within ${t.ipWindowMs / 60_000} min`, { ipAddresses: ips });
}

export function geoJump(h: UserHistory, t: FraudThresholds): FraudAlertMessage | null {
  const e = h.events.at(-1);
  const country = e?.location?.country;
  if (!e || !country) return null;
  const before = [...h.events.slice(0, -1)].reverse().find((x) => x.location?.country);
  if (!before || before.location!.country === country) return null;
  const gapMs = time(e) - time(before);
  if (gapMs >= t.geoJumpMs) return null;
  return alert(FraudRule.GEO_JUMP, t.geoSeverity, h, [before, e].slice(-1), `from ${before.location!.country} to ${country} in ${Math.round(gapMs / 1000)} s`, {
    from: before.location!.country,
    to: country,
    seconds: Math.round(gapMs / 1000),
  });
}

export const RULES = [highVelocity, purchaseVelocity, highValuePurchase, multipleIps, geoJump] as const;

/** Every rule, judged on the newest event of `h`. */
export function evaluate(h: UserHistory, t: FraudThresholds): FraudAlertMessage[] {
  const out: FraudAlertMessage[] = [];
  for (const rule of RULES) {
    const a = rule(h, t);
    if (a) out.push(a);
  }
  return out;
}

/** The longest window any rule looks back over. */
export const longestWindow = (t: FraudThresholds): number => Math.max(t.velocityWindowMs, t.purchaseWindowMs, t.ipWindowMs, t.geoJumpMs);
