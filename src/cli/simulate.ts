import { parseArgs } from 'node:util';
import { simulate } from '../simulator/runner';
import { signWithConfiguredKey } from './signing';

const USAGE =
  'usage: npm run simulate -- --rate N --users N --duration S [--fraud SHARE] [--url URL] [--token JWT] [--seed N] [--quiet]';

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} "${raw}" must be a positive number; ${USAGE}`);
  return n;
}

/**
 * `npm run simulate`: realistic user sessions through the GraphQL API at a steady rate, with
 * progress every second and a summary at the end. `--fraud 0.05` makes 5% of the users (at
 * least one) act like fraudsters: bursts, expensive orders, hopping IP addresses and countries.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string' },
      users: { type: 'string' },
      duration: { type: 'string' },
      fraud: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      seed: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const rate = positive('rate', values.rate, 20);
  const users = Math.round(positive('users', values.users, Math.max(100, rate * 5)));
  const duration = positive('duration', values.duration, 30);
  const fraud = values.fraud === undefined ? 0 : Number(values.fraud);
  if (!(fraud >= 0 && fraud <= 1)) throw new Error(`--fraud "${values.fraud}" is a share between 0 and 1; ${USAGE}`);
  const url = (values.url ?? process.env.GATEWAY_URL ?? `http://localhost:${process.env.PORT ?? 4000}`).replace(/\/$/, '');
  const token = values.token ?? process.env.SIM_TOKEN ?? signWithConfiguredKey('activity-simulator', ['service'], Math.ceil(duration) + 3600);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);

  const say = (s: string) => process.stderr.write(`${s}\n`);
  say(`simulating ${users} users at ${rate} events/s for ${duration} s against ${url}${fraud > 0 ? `, ${fraud * 100}% fraudsters` : ''}`);
  const summary = await simulate({
    url,
    token,
    rate,
    users,
    durationSeconds: duration,
    fraudShare: fraud,
    seed,
    onProgress: values.quiet
      ? undefined
      : (p) => say(`  ${p.elapsedSeconds.toFixed(0).padStart(4)} s  sent ${p.sent}  accepted ${p.accepted}  rejected ${p.rejected}`),
  });
  say('');
  say(`sent       ${summary.sent}`);
  say(`accepted   ${summary.accepted}`);
  say(`rejected   ${summary.rejected}${summary.rejected > 0 ? ` ${JSON.stringify(summary.rejectedByCode)}` : ''}`);
  say(`rate       ${summary.ratePerSecond} events/s over ${summary.elapsedSeconds} s${summary.idleSlots > 0 ? ` (${summary.idleSlots} slots had no user ready: add users)` : ''}`);
  say(`latency    p50 ${summary.latencyMs.p50} ms  p90 ${summary.latencyMs.p90} ms  p99 ${summary.latencyMs.p99} ms  max ${summary.latencyMs.max} ms`);
  if (summary.fraudsters.length > 0) say(`fraudsters ${summary.fraudsters.join(', ')}`);
  // The summary as one JSON line on stdout, for scripts.
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (summary.accepted === 0) process.exitCode = 1;
}

void main().catch((err) => {
  process.stderr.write(`simulate: ${(err as Error).message}\n`);
  process.exit(2);
});
