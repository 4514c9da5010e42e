// Opens N graphql-ws subscribers of eventProcessed over raw WebSockets. `token` is a bearer
// token, or `per-user:<secret>` to give subscriber i a user token of its own (user e2e-i, who
// sees only its own events). In `latency` mode each message's age is measured from the send
// time the sender put in `properties.t`; in `count` mode messages are only counted. On SIGTERM
// it prints {connected, received, samples, p50, p99, max} as JSON and exits.
import { writeFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';

const [url, tokenArg, countArg, mode, fromArg] = process.argv.slice(2) as [string, string, string, 'latency' | 'count', string?];
const tokenFor = (i: number): string =>
  tokenArg.startsWith('per-user:')
    ? jwt.sign({ roles: ['user'] }, tokenArg.slice('per-user:'.length), { algorithm: 'HS256', subject: `e2e-${i}`, expiresIn: 6 * 3600 })
    : tokenArg;
const count = Number(countArg);
const measureFrom = Number(fromArg ?? 0);
const query = mode === 'latency' ? 'subscription { eventProcessed { eventId properties } }' : 'subscription { eventProcessed { eventId type pageUrl } }';
let connected = 0;
let received = 0;
const latencies: number[] = [];
// BENCH_TRACE=<file>: also writes [send time, latency] of every message there, to see when slow ones happened.
const trace: Array<[number, number]> | undefined = process.env.BENCH_TRACE ? [] : undefined;

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${tokenFor(i)}` } })));
    let acked = false;
    ws.on('message', (data: Buffer) => {
      if (!acked && data.includes('"connection_ack"')) {
        acked = true;
        ws.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query } }));
        connected++;
        resolve();
        return;
      }
      received++;
      if (mode === 'latency') {
        const m = /"t":(\d+)/.exec(data.toString());
        if (m && Number(m[1]) >= measureFrom && !data.includes('"warm":true')) {
          latencies.push(Date.now() - Number(m[1]));
          trace?.push([Number(m[1]), Date.now() - Number(m[1])]);
        }
      }
    });
    ws.on('error', () => resolve());
  });
}

async function main(): Promise<void> {
  for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, k) => open(i + k)));
  process.stdout.write(`ready ${connected}\n`);
}

process.on('SIGTERM', () => {
  if (trace) writeFileSync(process.env.BENCH_TRACE!, JSON.stringify(trace));
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  process.stdout.write(`${JSON.stringify({ connected, received, samples: latencies.length, p50: pct(50), p99: pct(99), max: latencies.at(-1) ?? 0 })}\n`);
  process.exit(0);
});
void main();
