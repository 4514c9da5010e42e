// Sends recordActivity at a fixed rate (open loop), each event carrying its send time in
// properties.t, then prints {sent, accepted, failed} as JSON. Plain node:http over a keep-alive
// agent: a fraction of the CPU of fetch, which matters with everything on one machine.
import { Agent, request } from 'node:http';

const [url, token, rateArg, secondsArg, warmArg] = process.argv.slice(2) as [string, string, string, string, string?];
// The first `warmArg` seconds are warm-up: those events are marked (properties.warm) so latency
// samplers skip them, and they are not counted; then `secondsArg` seconds are measured.
const warmSeconds = Number(warmArg ?? 0);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const query = 'mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId } }';
const target = new URL('/graphql', url);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(body: string): Promise<{ errors?: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { errors?: unknown });
          } catch (err) {
            reject(err as Error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  let warmSent = 0;
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  while (performance.now() - start < (warmSeconds + seconds) * 1000) {
    const warm = performance.now() - start < warmSeconds * 1000;
    const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
    for (let i = 0; i < due; i++) {
      const n = sent++;
      if (warm) warmSent++;
      const properties = warm ? { t: Date.now(), warm: true } : { t: Date.now() };
      pending.push(
        post(JSON.stringify({ query, variables: { input: { userId: `e2e-${n % 1000}`, type: 'CLICK', pageUrl: '/e2e', properties } } })).then(
          (b) => {
            if (warm) return;
            if (b.errors) failed++;
            else accepted++;
          },
          () => {
            if (!warm) failed++;
          },
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ sent: sent - warmSent, accepted, failed })}\n`);
}
void main();
