// Sends recordActivity at a fixed rate (open loop), each event carrying its send time in
// properties.t, then prints {sent, accepted, failed} as JSON.
const [url, token, rateArg, secondsArg, warmArg] = process.argv.slice(2) as [string, string, string, string, string?];
// The first `warmArg` seconds are warm-up: those events are marked (properties.warm) so latency
// samplers skip them, and they are not counted; then `secondsArg` seconds are measured.
const warmSeconds = Number(warmArg ?? 0);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const query = 'mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId } }';

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
      pending.push(
        fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables: { input: { userId: `e2e-${n % 1000}`, type: 'CLICK', pageUrl: '/e2e', properties: warm ? { t: Date.now(), warm: true } : { t: Date.now() } } } }),
        }).then(
          async (r) => {
            const b = (await r.json()) as { errors?: unknown };
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
  process.stdout.write(`${JSON.stringify({ sent: sent - warmSent, accepted, failed })}\n`);
}
void main();
