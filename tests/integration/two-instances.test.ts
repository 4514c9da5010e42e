import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Leftovers, RECORD_MANY, graphql, testEnv, throwawaySchema, token, urlWithSchema, waitFor } from '../support/harness';
import { freePort } from '../support/second-broker';
import { collect, wsClient } from '../support/subscriptions';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());
const root = join(__dirname, '..', '..');

/** A gateway in a process of its own, stopped with SIGTERM at the end. */
async function gatewayProcess(env: Record<string, string | undefined>): Promise<string> {
  const port = await freePort();
  const child: ChildProcess = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'main.ts')], {
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Its log (pino on stdout) and stderr, for the message when it does not become ready.
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-4_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise((r) => child.once('exit', r));
  leftovers.add(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const url = `http://127.0.0.1:${port}`;
  const ready = waitFor(async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined), 60_000, `instance on ${port} to be ready`);
  const died = exited.then(() => {
    throw new Error(`instance on ${port} exited with ${child.exitCode} before it was ready`);
  });
  // Whichever loses the race settles later (the process also ends at teardown): not unhandled.
  died.catch(() => undefined);
  ready.catch(() => undefined);
  try {
    await Promise.race([ready, died]);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  return url;
}

describe('two gateway processes sharing the broker and the database', () => {
  it('deliver every event recorded through either to subscribers on both', async () => {
    const schema = await throwawaySchema();
    leftovers.add(() => schema.drop());
    const env = { ...testEnv(), DATABASE_URL: urlWithSchema(schema.name) };
    const [a, b] = await Promise.all([gatewayProcess(env), gatewayProcess(env)]);

    const query = 'subscription { eventProcessed { pageUrl } }';
    const onA = collect(wsClient(leftovers, a, token('ana', ['analyst'])), query);
    const onB = collect(wsClient(leftovers, b, token('ana', ['analyst'])), query);
    // Both subscriptions are live once a probe event reaches both.
    await waitFor(async () => {
      await graphql(a, RECORD_MANY, { inputs: [{ type: 'CLICK', pageUrl: '/probe' }] }, token('prober'));
      return onA.results.length > 0 && onB.results.length > 0 ? true : undefined;
    }, 30_000, 'both subscriptions to be live');
    const probes = (c: typeof onA) => c.data('eventProcessed').filter((e) => e.pageUrl === '/probe').length;

    await graphql(a, RECORD_MANY, { inputs: [{ type: 'CLICK', pageUrl: '/via-a-1' }, { type: 'CLICK', pageUrl: '/via-a-2' }] }, token('u1'));
    await graphql(b, RECORD_MANY, { inputs: [{ type: 'CLICK', pageUrl: '/via-b-1' }, { type: 'CLICK', pageUrl: '/via-b-2' }] }, token('u2'));
    const pages = (c: typeof onA) => c.data('eventProcessed').map((e) => e.pageUrl).filter((p) => p !== '/probe').sort();
    const expected = ['/via-a-1', '/via-a-2', '/via-b-1', '/via-b-2'];
    // Probes may still be arriving: wait on what arrived, not on how much.
    await waitFor(() => (pages(onA).length >= 4 && pages(onB).length >= 4 ? true : undefined), 30_000, 'all four events on both instances');
    expect(pages(onA)).toEqual(expected);
    expect(pages(onB)).toEqual(expected);
    expect(probes(onA)).toBeGreaterThan(0);
  }, 120_000);
});
