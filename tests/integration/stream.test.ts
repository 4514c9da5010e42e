import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Leftovers, RECORD_MANY, graphql, startGateway, token, waitFor, type TestGateway } from '../support/harness';
import { testKafka } from '../support/kafka';
import { collect, wsClient } from '../support/subscriptions';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

const SUB = `subscription S($filter: EventFilter, $after: String) {
  eventProcessed(filter: $filter, after: $after) { eventId userId type pageUrl cursor ipAddress }
}`;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway(leftovers);
});

describe('eventProcessed', () => {
  it("delivers a user its own events only, and an analyst everyone's", async () => {
    const mine = collect(wsClient(leftovers, gw.url, token('sub-a')), SUB);
    const all = collect(wsClient(leftovers, gw.url, token('ana', ['analyst'])), SUB);
    // Subscriptions register asynchronously: record once both have been acknowledged.
    await waitFor(() => (gw.app.hubSubscribers() >= 2 ? true : undefined));
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'PAGE_VIEW', pageUrl: '/a1' }] }, token('sub-a'));
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'PAGE_VIEW', pageUrl: '/b1' }] }, token('sub-b'));
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'PAGE_VIEW', pageUrl: '/a2' }] }, token('sub-a'));
    await all.until(3);
    await mine.until(2);
    expect(all.data('eventProcessed').map((e) => e.pageUrl).sort()).toEqual(['/a1', '/a2', '/b1']);
    expect(all.data('eventProcessed').every((e) => e.ipAddress === '127.0.0.1')).toBe(true);
    expect(mine.data('eventProcessed').map((e) => e.pageUrl)).toEqual(['/a1', '/a2']);
    expect(mine.data('eventProcessed').every((e) => e.userId === 'sub-a' && e.ipAddress === null)).toBe(true);
    // Delivered in processing order: cursors increase.
    const cursors = all.data('eventProcessed').map((e) => Buffer.from(e.cursor, 'base64url').toString());
    const seqs = cursors.map((c) => Number(c.split(':')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});

describe('the fan-out consumer', () => {
  it('skips processed-topic records that are not processed events, counts them, and reads on', async () => {
    const metric = async (line: RegExp): Promise<number> => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      return Number(line.exec(text)?.[1] ?? 0);
    };
    const unreadable = /^fanout_unreadable_records_total (\d+)/m;
    const read = /^fanout_records_total\{topic="processed"\} (\d+)/m;
    const before = { unreadable: await metric(unreadable), read: await metric(read) };
    const producer = testKafka().producer();
    await producer.connect();
    leftovers.add(() => producer.disconnect());
    await producer.send({ topic: gw.config.kafka.topics.processed, messages: [{ key: 'x', value: 'garbage' }, { key: 'x', value: '{"seq":"one"}' }] });
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'PAGE_VIEW', pageUrl: '/after-junk' }] }, token('junk-reader'));
    // The record after the junk is read from the topic too: the consumer did not stall on it.
    await waitFor(async () => ((await metric(read)) >= before.read + 3 ? true : undefined), 20_000, 'the fan-out consumer to read past the junk');
    expect((await metric(unreadable)) - before.unreadable).toBe(2);
  });
});

describe('message framing', () => {
  it('delivers the same events over a compressed connection (permessage-deflate) as over a plain one', async () => {
    const g = await startGateway(leftovers, { WS_DEFLATE: 'true' });
    const sockets: WebSocket[] = [];
    const user = token('deflater');
    /** A graphql-ws client whose sockets offer permessage-deflate or not, kept in `sockets`. */
    const clientOffering = (perMessageDeflate: boolean) => {
      const client = createClient({
        url: `${g.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: class extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols, { perMessageDeflate });
            sockets.push(this);
          }
        },
        connectionParams: { authorization: `Bearer ${user}` },
        retryAttempts: 0,
        lazy: true,
      });
      leftovers.add(() => client.dispose());
      return client;
    };
    const compressed = clientOffering(true);
    const plain = clientOffering(false);
    const a = collect(compressed, SUB);
    const b = collect(plain, SUB);
    await waitFor(() => (g.app.hubSubscribers() >= 2 ? true : undefined));
    expect(sockets.map((s) => s.extensions).sort()).toEqual(['', 'permessage-deflate']);
    // A frame with a 7-bit length and one with a 16-bit length, compressed and not.
    const long = `/${'x'.repeat(1_500)}`;
    await graphql(g.url, RECORD_MANY, { inputs: [{ type: 'PAGE_VIEW', pageUrl: '/short' }, { type: 'PAGE_VIEW', pageUrl: long }] }, user);
    await a.until(2);
    await b.until(2);
    expect(a.data('eventProcessed').map((e) => e.pageUrl)).toEqual(['/short', long]);
    expect(b.data('eventProcessed')).toEqual(a.data('eventProcessed'));
  });
});

/** A user's eventProcessed subscription on the shared gateway, once the hub has registered it. */
async function subscribed(name: string): Promise<{ user: string; sub: ReturnType<typeof collect> }> {
  const user = token(name);
  const base = gw.app.hubSubscribers();
  const sub = collect(wsClient(leftovers, gw.url, user), SUB);
  await waitFor(() => (gw.app.hubSubscribers() > base ? true : undefined));
  return { user, sub };
}

/** Counters of the shared gateway's /metrics, by their line's name (labels included). */
async function counters(...names: string[]): Promise<number[]> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const lines = new Map(text.split('\n').map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
  return names.map((n) => lines.get(n) ?? 0);
}

describe('writes per socket', () => {
  it("writes the events a socket gets together in fewer writes than messages, every event once and in order", async () => {
    const { user, sub } = await subscribed('burst');
    const read = async () => {
      const [messages, writes] = await counters('subscription_messages_total', 'subscription_writes_total');
      return { messages: messages!, writes: writes! };
    };
    const before = await read();
    const pages = Array.from({ length: 60 }, (_, i) => `/burst/${i}`);
    await graphql(gw.url, RECORD_MANY, { inputs: pages.map((pageUrl) => ({ type: 'PAGE_VIEW', pageUrl })) }, user);
    await sub.until(60);
    const after = await read();
    expect(sub.data('eventProcessed').map((e) => e.pageUrl)).toEqual(pages);
    // This socket's 60, and as many to each analyst still subscribed from the tests before.
    const messages = after.messages - before.messages;
    expect(messages).toBeGreaterThanOrEqual(60);
    // Processed together, fetched together: many messages to a write (one a message without it).
    expect(after.writes - before.writes).toBeGreaterThan(0);
    expect(after.writes - before.writes).toBeLessThan(messages / 2);
  });
});

describe('selections', () => {
  it('renders an event once per distinct selection, and forgets a selection when its last subscription ends', async () => {
    const g = await startGateway(leftovers);
    const gauge = async () => {
      const text = await (await fetch(`${g.url}/metrics`)).text();
      return Number(/^subscription_selections (\d+)$/m.exec(text)?.[1]);
    };
    const SHORT = 'subscription { eventProcessed { eventId pageUrl } }';
    // Two users with the same selection share it; an analyst (who may see everything) and another
    // selection of the same user each have one of their own.
    const a = collect(wsClient(leftovers, g.url, token('sel-a')), SUB);
    const b = collect(wsClient(leftovers, g.url, token('sel-b')), SUB);
    const analyst = collect(wsClient(leftovers, g.url, token('sel-ana', ['analyst'])), SUB);
    const short = collect(wsClient(leftovers, g.url, token('sel-a')), SHORT);
    await waitFor(() => (g.app.hubSubscribers() >= 4 ? true : undefined));
    expect(await gauge()).toBe(3);
    await graphql(g.url, RECORD_MANY, { inputs: [{ type: 'PAGE_VIEW', pageUrl: '/sel-a' }] }, token('sel-a'));
    await graphql(g.url, RECORD_MANY, { inputs: [{ type: 'PAGE_VIEW', pageUrl: '/sel-b' }] }, token('sel-b'));
    await analyst.until(2);
    await a.until(1);
    await b.until(1);
    await short.until(1);
    expect(a.data('eventProcessed').map((e) => e.pageUrl)).toEqual(['/sel-a']);
    expect(b.data('eventProcessed').map((e) => e.pageUrl)).toEqual(['/sel-b']);
    expect(analyst.data('eventProcessed').map((e) => e.pageUrl).sort()).toEqual(['/sel-a', '/sel-b']);
    expect(short.data('eventProcessed')).toEqual([{ eventId: a.data('eventProcessed')[0].eventId, pageUrl: '/sel-a' }]);
    for (const c of [a, b, analyst]) c.dispose();
    await waitFor(() => (g.app.hubSubscribers() === 1 ? true : undefined));
    expect(await gauge()).toBe(1);
    short.dispose();
    await waitFor(() => (g.app.hubSubscribers() === 0 ? true : undefined));
    expect(await gauge()).toBe(0);
  });
});

describe('local delivery', () => {
  it("hands its own processor's events to its subscribers ahead of the topic, each once", async () => {
    const { user, sub } = await subscribed('local');
    const local = async () => (await counters('subscription_events_local_total'))[0]!;
    const fromTopic = async () => (await counters('fanout_records_total{topic="processed"}'))[0]!;
    const before = await local();
    const readBefore = await fromTopic();
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'CLICK', pageUrl: '/l1' }, { type: 'CLICK', pageUrl: '/l2' }] }, user);
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'CLICK', pageUrl: '/l3' }] }, user);
    await sub.until(3);
    expect(await local()).toBeGreaterThanOrEqual(before + 3);
    // The same events from the processed topic are dropped: a marker after them arrives next.
    await waitFor(async () => ((await fromTopic()) >= readBefore + 3 ? true : undefined));
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'LOGOUT', pageUrl: '/l-end' }] }, user);
    await sub.until(4);
    expect(sub.data('eventProcessed').map((e) => e.pageUrl)).toEqual(['/l1', '/l2', '/l3', '/l-end']);
  });
});

describe('resuming with after', () => {
  it('sends exactly the missed events, then live ones, with no gap and no repeat', async () => {
    const user = token('resumer');
    const base = gw.app.hubSubscribers();
    const first = collect(wsClient(leftovers, gw.url, user), SUB);
    await waitFor(() => (gw.app.hubSubscribers() > base ? true : undefined));
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'CLICK', pageUrl: '/r1' }, { type: 'CLICK', pageUrl: '/r2' }] }, user);
    await first.until(2);
    const resumeFrom = first.data('eventProcessed')[1].cursor;
    first.dispose();
    await waitFor(() => (gw.app.hubSubscribers() === base ? true : undefined));

    // Missed while away.
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'CLICK', pageUrl: '/r3' }, { type: 'CLICK', pageUrl: '/r4' }, { type: 'CLICK', pageUrl: '/r5' }] }, user);
    await waitFor(async () => {
      const q = await graphql(gw.url, '{ processedEvents(filter: { userId: "resumer" }) { totalCount } }', {}, user);
      return q.data.processedEvents.totalCount === 5 ? true : undefined;
    });
    const again = collect(wsClient(leftovers, gw.url, user), SUB, { after: resumeFrom });
    await again.until(3);
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'CLICK', pageUrl: '/r6' }] }, user);
    await again.until(4);
    // A marker proves nothing else is still on its way.
    await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'LOGOUT', pageUrl: '/end' }] }, user);
    await again.until(5);
    expect(again.data('eventProcessed').map((e) => e.pageUrl)).toEqual(['/r3', '/r4', '/r5', '/r6', '/end']);
  });

  it('refuses a cursor of another list with BAD_USER_INPUT', async () => {
    const bad = collect(wsClient(leftovers, gw.url, token('u')), SUB, { after: 'bm9wZQ' });
    await bad.until(1);
    expect(bad.results[0]!.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});

describe('fraud alerts', () => {
  const ALERTS = `subscription A($min: Severity) { fraudAlertRaised(minSeverity: $min) { alertId userId rule severity detectedAt eventIds details } }`;

  it('streams alerts at or above the minimum severity to analysts, stores them once, and lists them', async () => {
    const g = await startGateway(leftovers);
    const high = collect(wsClient(leftovers, g.url, token('ana', ['analyst'])), ALERTS, { min: 'HIGH' });
    const any = collect(wsClient(leftovers, g.url, token('root', ['admin'])), ALERTS);
    const user = collect(wsClient(leftovers, g.url, token('nosy')), ALERTS);
    await user.until(1);
    expect(user.results[0]!.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    await waitFor(() => (g.app.hubSubscribers() >= 2 ? true : undefined));

    const alert = (id: string, severity: string) => ({
      alertId: id,
      userId: 'risky',
      rule: 'HIGH_VELOCITY',
      severity,
      message: `${severity} alert`,
      detectedAt: new Date().toISOString(),
      eventIds: ['e1', 'e2'],
      details: { eventsPerMinute: 120 },
    });
    const producer = testKafka().producer();
    await producer.connect();
    leftovers.add(() => producer.disconnect());
    await producer.send({
      topic: g.config.kafka.topics.alerts,
      messages: [alert('al-1', 'LOW'), alert('al-2', 'CRITICAL'), alert('al-2', 'CRITICAL')].map((a) => ({ key: 'risky', value: JSON.stringify(a) })),
    });
    await any.until(2);
    await high.until(1);
    expect(any.data('fraudAlertRaised').map((a) => a.alertId)).toEqual(['al-1', 'al-2']);
    expect(high.data('fraudAlertRaised').map((a) => a.alertId)).toEqual(['al-2']);
    expect(high.data('fraudAlertRaised')[0]).toMatchObject({ rule: 'HIGH_VELOCITY', severity: 'CRITICAL', eventIds: ['e1', 'e2'], details: { eventsPerMinute: 120 } });

    const listed = await waitFor(async () => {
      const q = await graphql(g.url, '{ fraudAlerts { totalCount edges { node { alertId severity } } } }', {}, token('ana', ['analyst']));
      return q.data.fraudAlerts.totalCount === 2 ? q.data.fraudAlerts : undefined;
    });
    expect(listed.edges.map((e: any) => e.node.alertId)).toEqual(['al-2', 'al-1']);
    const critical = await graphql(g.url, '{ fraudAlerts(minSeverity: CRITICAL) { totalCount } }', {}, token('ana', ['analyst']));
    expect(critical.data.fraudAlerts.totalCount).toBe(1);
    const profile = await graphql(g.url, '{ userProfile(userId: "risky") { riskScore fraudAlerts { alertId } } }', {}, token('ana', ['analyst']));
    // 1 - (1 - 0.1)(1 - 0.8)
    expect(profile.data.userProfile.riskScore).toBeCloseTo(0.82, 4);
    expect(profile.data.userProfile.fraudAlerts.map((a: any) => a.alertId)).toEqual(['al-2', 'al-1']);
    const asUser = await graphql(g.url, '{ fraudAlerts { totalCount } }', {}, token('nosy'));
    expect(asUser.errors![0]!.extensions.code).toBe('FORBIDDEN');
    const ownAlerts = await graphql(g.url, '{ me { fraudAlerts { alertId } } }', {}, token('risky'));
    expect(ownAlerts.errors![0]!.extensions.code).toBe('FORBIDDEN');
  });
});

describe('the dashboard', () => {
  const DASH = `subscription D($s: Int) { dashboardUpdated(intervalSeconds: $s) { at activeUsers eventsPerSecond topPages { key count } conversionRate alertsLastHour } }`;

  it('answers the dashboard query and pushes snapshots every interval, computed once per interval', async () => {
    const g = await startGateway(leftovers);
    await graphql(g.url, RECORD_MANY, {
      inputs: [
        { userId: 'd1', type: 'PAGE_VIEW', pageUrl: '/home' },
        { userId: 'd1', type: 'PAGE_VIEW', pageUrl: '/home' },
        { userId: 'd2', type: 'PAGE_VIEW', pageUrl: '/deals' },
        { userId: 'd2', type: 'PURCHASE', contentId: 'p', properties: { price: 5 } },
      ],
    }, token('svc', ['service']));
    const snap = await waitFor(async () => {
      const q = await graphql(g.url, '{ dashboard { activeUsers eventsPerSecond conversionRate alertsLastHour topPages { key count } } }', {}, token('ana', ['analyst']));
      return q.data.dashboard.activeUsers === 2 ? q.data.dashboard : undefined;
    });
    expect(snap).toEqual({
      activeUsers: 2,
      eventsPerSecond: 0.067,
      conversionRate: 0.5,
      alertsLastHour: 0,
      topPages: [{ key: '/home', count: 2 }, { key: '/deals', count: 1 }],
    });
    const denied = await graphql(g.url, '{ dashboard { activeUsers } }', {}, token('d1'));
    expect(denied.errors![0]!.extensions.code).toBe('FORBIDDEN');

    const subs = Array.from({ length: 5 }, () => collect(wsClient(leftovers, g.url, token('ana', ['analyst'])), DASH, { s: 1 }));
    for (const s of subs) await s.until(3, 15_000);
    for (const s of subs) expect(s.data('dashboardUpdated')[2]).toMatchObject({ activeUsers: 2, conversionRate: 0.5 });
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    const computed = Number(/dashboard_snapshots_total (\d+)/.exec(metrics)![1]);
    const delivered = subs.reduce((n, s) => n + s.results.length, 0);
    // Five subscribers, one computation per tick: far fewer computations than deliveries.
    expect(delivered).toBeGreaterThanOrEqual(15);
    expect(computed).toBeLessThanOrEqual(delivered / 3);

    const tooFast = collect(wsClient(leftovers, g.url, token('ana', ['analyst'])), DASH, { s: 0 });
    await tooFast.until(1);
    expect(tooFast.results[0]!.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});
