import { nextEvent, population, rng, type SimEvent, type SimUser } from './model';

export interface SimulateOptions {
  /** Gateway base URL, e.g. http://localhost:4000. */
  url: string;
  /** A token with the `service` role: the simulator records for its users. */
  token: string;
  /** Events per second of ordinary traffic. */
  rate: number;
  users: number;
  durationSeconds: number;
  /** Share of users that behave like fraudsters (0: none). */
  fraudShare: number;
  seed: number;
  /** Least time between two events of one ordinary user, ms: real users read pages. */
  userGapMs?: number;
  /** Requests in flight at most. */
  concurrency?: number;
  onProgress?: (s: Progress) => void;
}

export interface Progress {
  elapsedSeconds: number;
  sent: number;
  accepted: number;
  rejected: number;
}

export interface Summary extends Progress {
  ratePerSecond: number;
  /** Slots of the schedule with no user ready to act (add users to reach the rate). */
  idleSlots: number;
  rejectedByCode: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  fraudsters: string[];
}

const MUTATION = `mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId } }`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Sends realistic traffic through the GraphQL API at a steady rate: each event is one
 * `recordActivity` by a service token on behalf of its user, with the user's address in
 * X-Forwarded-For (it counts when the gateway trusts one proxy hop). Fraudsters act once each,
 * at a random moment in the first half of the run, as fast as they can.
 */
export async function simulate(o: SimulateOptions): Promise<Summary> {
  const r = rng(o.seed);
  const { users, fraudsters } = population(o.seed, o.users, o.fraudShare);
  const ordinary = users.filter((u) => !u.fraud);
  const villains = users.filter((u) => u.fraud);
  const gap = o.userGapMs ?? 3_000;
  const limit = o.concurrency ?? 64;
  const readyAt = new Map<SimUser, number>(ordinary.map((u) => [u, 0]));
  const latencies: number[] = [];
  const rejectedByCode: Record<string, number> = {};
  const p: Progress = { elapsedSeconds: 0, sent: 0, accepted: 0, rejected: 0 };
  let inFlight = 0;
  let idleSlots = 0;
  let slots = 0;
  let cursor = 0;
  const waiters: Array<() => void> = [];

  const send = async (e: SimEvent): Promise<void> => {
    inFlight++;
    p.sent++;
    const started = performance.now();
    try {
      const { userId, ip, ...input } = e;
      const res = await fetch(`${o.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${o.token}`,
          'x-forwarded-for': ip,
          'user-agent': `activity-simulator (${e.device.os}; ${e.device.browser})`,
        },
        body: JSON.stringify({ query: MUTATION, variables: { input: { ...input, userId } } }),
      });
      const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      if (body.errors) {
        p.rejected++;
        const code = body.errors[0]?.extensions?.code ?? `HTTP_${res.status}`;
        rejectedByCode[code] = (rejectedByCode[code] ?? 0) + 1;
      } else {
        p.accepted++;
      }
    } catch {
      p.rejected++;
      rejectedByCode.NETWORK = (rejectedByCode.NETWORK ?? 0) + 1;
    } finally {
      latencies.push(performance.now() - started);
      inFlight--;
      waiters.shift()?.();
    }
  };
  const slot = async () => {
    while (inFlight >= limit) await new Promise<void>((resolve) => waiters.push(resolve));
  };

  const start = performance.now();
  const end = start + o.durationSeconds * 1000;
  const villainStarts = villains.map((v) => ({ v, at: start + r() * (o.durationSeconds * 500) }));
  const running: Array<Promise<void>> = [];
  let lastProgress = start;

  while (performance.now() < end) {
    const now = performance.now();
    const dueVillains = villainStarts.filter((x) => x.at <= now);
    for (const vs of dueVillains) {
      villainStarts.splice(villainStarts.indexOf(vs), 1);
      running.push(
        (async () => {
          while (vs.v.plan.length > 0) {
            await slot();
            await send(nextEvent(r, vs.v));
          }
        })(),
      );
    }
    const due = Math.floor(((now - start) / 1000) * o.rate) - slots;
    for (let i = 0; i < due; i++) {
      slots++;
      let chosen: SimUser | undefined;
      for (let k = 0; k < ordinary.length; k++) {
        const u = ordinary[(cursor + k) % ordinary.length]!;
        if (readyAt.get(u)! <= now) {
          chosen = u;
          cursor = (cursor + k + 1) % ordinary.length;
          break;
        }
      }
      if (!chosen) {
        idleSlots++;
        continue;
      }
      readyAt.set(chosen, now + gap * (0.8 + r() * 0.4));
      await slot();
      running.push(send(nextEvent(r, chosen)));
    }
    if (o.onProgress && now - lastProgress >= 1000) {
      lastProgress = now;
      o.onProgress({ ...p, elapsedSeconds: (now - start) / 1000 });
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // Fraudsters whose moment has come finish their act; then everything in flight lands.
  await Promise.all(running);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    ...p,
    elapsedSeconds: round(elapsed),
    ratePerSecond: round(p.sent / elapsed),
    idleSlots,
    rejectedByCode,
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? 0),
    },
    fraudsters,
  };
}
