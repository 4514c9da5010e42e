import pg from 'pg';
import { Leftovers, PG_URL, RECORD_MANY, graphql, startGateway, token, waitFor, type TestGateway } from '../support/harness';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

const STORED = `query Q($filter: EventFilter) { processedEvents(filter: $filter, first: 50) { totalCount } }`;

/** The stored events of a user, as a reader of the API sees them. */
async function storedCount(gw: TestGateway, user: string): Promise<number> {
  const r = await graphql(gw.url, STORED, { filter: { userId: user } }, token(user));
  return (r.data as { processedEvents: { totalCount: number } } | undefined)?.processedEvents.totalCount ?? -1;
}

async function ready(gw: TestGateway): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const res = await fetch(`${gw.url}/ready`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
}

describe('the default deployment: the processor and fraud roles in a thread of their own', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(leftovers, { ROLE_THREADS: 'true' });
  }, 120_000);

  it('stores what the gateway records from the role thread, and reports the thread in /ready and /metrics', async () => {
    expect(gw.app.roleThread?.name).toBe('processor,fraud');
    const r = await ready(gw);
    expect(r.status).toBe(200);
    expect(r.body.checks['processor,fraud']).toBe('ok');

    const recorded = await graphql(gw.url, RECORD_MANY, { inputs: [1, 2, 3].map((i) => ({ type: 'PAGE_VIEW', pageUrl: `/t/${i}` })) }, token('thr-a'));
    expect(recorded.errors).toBeUndefined();
    await waitFor(async () => ((await storedCount(gw, 'thr-a')) === 3 ? true : undefined), 30_000, 'the thread to store the events');

    // The thread's processor counts a group once it is published too, a moment after it is stored.
    const text = await waitFor(async () => {
      const t = await (await fetch(`${gw.url}/metrics`)).text();
      return Number(/^processor_events_total\{outcome="stored"\} (\d+)/m.exec(t)?.[1]) >= 3 ? t : undefined;
    }, 30_000, "the thread's processor_events_total on /metrics");
    // The main thread's HTTP figures and process metrics are there, the process's once.
    expect(text).toMatch(/^http_request_duration_seconds_count\{/m);
    expect(text.match(/^process_resident_memory_bytes /gm)).toHaveLength(1);
  });

  it('fails /ready naming the role while its thread is down, restarts it, and the role goes on', async () => {
    const thread = gw.app.roleThread!;
    await thread.kill();
    const down = await waitFor(async () => {
      const r = await ready(gw);
      return r.status === 503 ? r : undefined;
    }, 10_000, '/ready to fail');
    expect(down.body.checks['processor,fraud']).toMatch(/^unavailable: processor,fraud thread is (down|starting)/);
    await waitFor(async () => ((await ready(gw)).status === 200 ? true : undefined), 90_000, 'the thread to be back');

    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'CLICK', pageUrl: '/after' }] }, token('thr-b'));
    await waitFor(async () => ((await storedCount(gw, 'thr-b')) === 1 ? true : undefined), 30_000, 'the restarted thread to store the event');
  }, 150_000);

  it('stores each event once across the restart', async () => {
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${gw.storeSchema}` });
    await c.connect();
    leftovers.add(() => c.end());
    const r = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT event_id FROM activity_events GROUP BY event_id HAVING count(*) > 1) d');
    expect(r.rows[0]!.n).toBe(0);
  });
});
