import { LRUCache } from 'lru-cache';
import type { ActivityValue } from '../domain/activity';
import type { FraudAlertMessage } from '../domain/alerts';
import { purchaseValue } from '../domain/profile';
import { ActivityType } from '../domain/enums';
import { evaluate, longestWindow, type FraudThresholds } from './rules';

interface UserState {
  events: ActivityValue[];
  priorPurchases: number;
  priorSpend: number;
  newest: number;
}

export interface DetectorLimits {
  /** Users tracked at most; the least recently active are forgotten first. */
  maxUsers: number;
  /** Events kept per user at most (a flood cannot grow memory without bound). */
  maxEventsPerUser: number;
}

/**
 * Sliding windows per user over event receipt time, and the rules judged on every event. Memory
 * is bounded: a user's events older than the longest window are dropped (their purchases still
 * count towards the usual order value), idle users are forgotten once all their events fall out
 * of the window, and at most `maxUsers` users are tracked.
 */
export class FraudDetector {
  /** Least recently active users are forgotten first (lru-cache: see src/domain/lru.ts for why not a Map). */
  private readonly users: LRUCache<string, UserState>;
  private observed = 0;
  private latest = 0;

  constructor(
    private readonly thresholds: FraudThresholds,
    private readonly limits: DetectorLimits,
  ) {
    this.users = new LRUCache({ max: limits.maxUsers });
  }

  get trackedUsers(): number {
    return this.users.size;
  }

  /** Takes one event (in partition order) and returns the alerts it raises. */
  observe(e: ActivityValue): FraudAlertMessage[] {
    const t = Date.parse(e.receivedAt);
    this.latest = Math.max(this.latest, t);
    let s = this.users.get(e.userId);
    if (s) {
      if (s.events.some((x) => x.eventId === e.eventId)) return []; // redelivered
    } else {
      s = { events: [], priorPurchases: 0, priorSpend: 0, newest: t };
    }
    // Keep receipt order even if an event arrives late.
    let i = s.events.length;
    while (i > 0 && Date.parse(s.events[i - 1]!.receivedAt) > t) i--;
    s.events.splice(i, 0, e);
    s.newest = Math.max(s.newest, t);
    this.trim(s);
    this.users.set(e.userId, s);

    if (++this.observed % 1_000 === 0) this.sweep();
    // A late event is judged against its own moment: the rules look at history up to it.
    return evaluate({ userId: e.userId, events: s.events.slice(0, i + 1), priorPurchases: s.priorPurchases, priorSpend: s.priorSpend }, this.thresholds);
  }

  private trim(s: UserState): void {
    const from = s.newest - longestWindow(this.thresholds);
    let drop = 0;
    while (drop < s.events.length && (Date.parse(s.events[drop]!.receivedAt) <= from || s.events.length - drop > this.limits.maxEventsPerUser)) {
      const old = s.events[drop]!;
      if (old.type === ActivityType.PURCHASE) {
        s.priorPurchases += 1;
        s.priorSpend += purchaseValue(old);
      }
      drop++;
    }
    if (drop > 0) s.events.splice(0, drop);
  }

  /** Forgets users whose every event has fallen out of the longest window. */
  private sweep(): void {
    const idle = this.latest - longestWindow(this.thresholds);
    const gone: string[] = [];
    for (const [user, s] of this.users.entries()) if (s.newest <= idle) gone.push(user);
    for (const user of gone) this.users.delete(user);
  }
}
