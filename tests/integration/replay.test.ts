import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { Leftovers, PG_URL, RECORD_MANY, graphql, startGateway, token, urlWithSchema, waitFor, type TestGateway } from '../support/harness';
import { testKafka } from '../support/kafka';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());
const root = join(__dirname, '..', '..');

async function sql<R>(gw: TestGateway, text: string): Promise<R[]> {
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${gw.storeSchema}` });
  await c.connect();
  try {
    return (await c.query(text)).rows as R[];
  } finally {
    await c.end();
  }
}

/** Everything the processor derives from the log, without what depends on when it ran. */
async function snapshot(gw: TestGateway) {
  return {
    events: await sql(gw, `SELECT event_id, user_id, type, occurred_at, received_at, session_id, content_id, page_url, referrer,
      properties, device, location, ip_address, user_agent, kafka_partition, kafka_offset FROM activity_events ORDER BY event_id`),
    profiles: await sql(gw, `SELECT user_id, first_seen_at, last_seen_at, total_events, event_counts, session_count, purchase_count,
      total_spent, devices, countries, preferences, completion_sum, completion_count, segment, risk_score FROM user_profiles ORDER BY user_id`),
    sessions: await sql(gw, 'SELECT user_id, session_id, started_at FROM user_sessions ORDER BY user_id, session_id'),
    failed: await sql(gw, 'SELECT topic, partition, "offset", key, reason, raw_value FROM failed_events ORDER BY topic, partition, "offset"'),
  };
}

function runReplay(gw: TestGateway, args: string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(KAFKA_|JWT_|DATABASE_URL|ROLES)/.test(k)) delete env[k];
  Object.assign(env, gw.env, { DATABASE_URL: urlWithSchema(gw.storeSchema!), LOG_LEVEL: 'warn' });
  const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'cli', 'replay.ts'), ...args], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`replay failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const count = async (gw: TestGateway, table: string) => (await sql<{ n: number }>(gw, `SELECT count(*)::int n FROM ${table}`))[0]!.n;

describe('npm run replay', () => {
  it('rebuilds a wiped store from the log: the same events and identical profiles', async () => {
    const gw = await startGateway(leftovers);
    const svc = token('svc', ['service']);
    const users = ['r-ann', 'r-bob', 'r-cy'];
    const inputs = Array.from({ length: 60 }, (_, i) => {
      const userId = users[i % 3]!;
      const kinds = [
        { type: 'PAGE_VIEW', pageUrl: `/p/${i % 7}`, properties: { category: ['books', 'tech', 'garden'][i % 3] } },
        { type: 'SEARCH', properties: { query: `q${i}` } },
        { type: 'PRODUCT_VIEW', contentId: `prod-${i % 4}`, properties: { category: 'tech' } },
        { type: 'PURCHASE', contentId: `prod-${i % 4}`, properties: { price: 10 + i, category: 'tech' } },
        { type: 'PLAYBACK_COMPLETE', contentId: `film-${i % 2}`, properties: { positionSeconds: i, durationSeconds: 60 } },
      ];
      return { userId, sessionId: `${userId}-s${i % 4}`, location: { country: ['US', 'DE', 'FR'][i % 3] }, device: { type: ['MOBILE', 'DESKTOP'][i % 2] }, ...kinds[i % 5] };
    });
    await graphql(gw.url, RECORD_MANY, { inputs }, svc);
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({ topic: gw.config.kafka.topics.activity, messages: [{ key: 'r-ann', value: 'not json at all' }] });
    await producer.disconnect();
    await waitFor(async () => ((await count(gw, 'activity_events')) === 60 && (await count(gw, 'failed_events')) === 1 ? true : undefined));
    const before = await snapshot(gw);
    expect(before.profiles).toHaveLength(3);
    await gw.app.stop();

    await sql(gw, 'TRUNCATE activity_events, user_profiles, user_sessions, failed_events');
    expect(await count(gw, 'activity_events')).toBe(0);
    const out = runReplay(gw, ['--from', 'earliest']);
    expect(out).toMatch(/replayed 61 record\(s\).*60 event\(s\) stored, 0 already stored, 1 failed/);
    expect(await snapshot(gw)).toEqual(before);

    // --rebuild recomputes from zero: a damaged profile is mended.
    await sql(gw, `UPDATE user_profiles SET total_events = 999, segment = 'NEW' WHERE user_id = 'r-bob'`);
    runReplay(gw, ['--from', 'earliest', '--rebuild']);
    expect(await snapshot(gw)).toEqual(before);

    // Without --rebuild a replay over a complete store changes nothing.
    expect(runReplay(gw, ['--from', 'earliest'])).toMatch(/0 event\(s\) stored, 60 already stored/);
    expect(await snapshot(gw)).toEqual(before);
  }, 180_000);

  it('starts at the offsets for a time with --from <ISO time>', async () => {
    const gw = await startGateway(leftovers);
    const svc = token('svc', ['service']);
    await graphql(gw.url, RECORD_MANY, { inputs: [{ userId: 'early', type: 'CLICK' }, { userId: 'early', type: 'CLICK' }] }, svc);
    await waitFor(async () => ((await count(gw, 'activity_events')) === 2 ? true : undefined));
    // Record timestamps have millisecond resolution: the boundary lies strictly between the two sends.
    const sent = Date.now();
    const boundary = await waitFor(() => (Date.now() > sent ? new Date() : undefined));
    await waitFor(() => (Date.now() > boundary.getTime() ? true : undefined));
    await graphql(gw.url, RECORD_MANY, { inputs: [{ userId: 'late', type: 'CLICK' }, { userId: 'late', type: 'LOGIN' }] }, svc);
    await waitFor(async () => ((await count(gw, 'activity_events')) === 4 ? true : undefined));
    await gw.app.stop();

    runReplay(gw, ['--from', boundary.toISOString(), '--rebuild']);
    const users = await sql<{ user_id: string; total_events: number }>(gw, 'SELECT user_id, total_events FROM user_profiles ORDER BY user_id');
    expect(users).toEqual([{ user_id: 'late', total_events: 2 }]);
  }, 120_000);

  it('refuses a --from that is neither a time nor earliest', () => {
    const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'cli', 'replay.ts'), '--from', 'yesterday'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--from "yesterday"/);
  });
});
