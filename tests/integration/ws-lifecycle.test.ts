import WebSocket from 'ws';
import { Leftovers, RECORD_MANY, graphql, startGateway, token, waitFor } from '../support/harness';
import { collect, wsClient } from '../support/subscriptions';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

const SUB = `subscription { eventProcessed { pageUrl cursor } }`;

describe('the WebSocket connection lifecycle', () => {
  it('ends subscriptions with UNAUTHENTICATED and closes the socket with 4403 when the token expires', async () => {
    const g = await startGateway(leftovers);
    let closedWith: number | undefined;
    const client = wsClient(leftovers, g.url, token('short-lived', ['user'], 2), (code) => {
      closedWith = code;
    });
    const sub = collect(client, SUB);
    await waitFor(() => (closedWith !== undefined ? true : undefined), 15_000, 'the socket to close');
    expect(closedWith).toBe(4403);
    expect(sub.results.at(-1)!.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(g.app.hubSubscribers()).toBe(0);
  });

  it('ends a subscriber that stops reading with SLOW_CONSUMER and resumeAfter, from which it resumes without loss', async () => {
    const g = await startGateway(leftovers, { SUBSCRIBER_MAX_BUFFERED_BYTES: String(256 * 1024) });
    const user = token('slow-reader');
    // A raw graphql-ws conversation, so the test can stop reading the socket.
    const ws = new WebSocket(`${g.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    leftovers.add(() => ws.terminate());
    const messages: Array<{ id?: string; type: string; payload?: any }> = [];
    ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user}` } }));
    await waitFor(() => (messages.some((m) => m.type === 'connection_ack') ? true : undefined));
    // Forty copies of the properties per event make each message a few hundred kilobytes.
    const big = Array.from({ length: 40 }, (_, i) => `p${i}: properties`).join(' ');
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription { eventProcessed { pageUrl cursor ${big} } }` } }));
    await waitFor(() => (g.app.hubSubscribers() === 1 ? true : undefined));
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    const blob = 'x'.repeat(7_000);
    let sent = 0;
    while (g.app.hubSubscribers() > 0 && sent < 1_000) {
      await graphql(g.url, RECORD_MANY, { inputs: Array.from({ length: 50 }, (_, i) => ({ type: 'CLICK', pageUrl: `/e${sent + i}`, properties: { blob } })) }, user);
      sent += 50;
      await waitFor(async () => {
        const q = await graphql(g.url, '{ processedEvents(first: 1) { totalCount } }', {}, user);
        return q.data.processedEvents.totalCount === sent ? true : undefined;
      });
    }
    await waitFor(() => (g.app.hubSubscribers() === 0 ? true : undefined), 30_000, 'the slow subscriber to be ended');

    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await waitFor(() => (messages.some((m) => m.id === '1' && m.type === 'complete') ? true : undefined), 30_000, 'the end of the subscription');
    const nexts = messages.filter((m) => m.id === '1' && m.type === 'next');
    const last = nexts.at(-1)!;
    expect(last.payload.errors[0].extensions.code).toBe('SLOW_CONSUMER');
    const resumeAfter: string = last.payload.errors[0].extensions.resumeAfter;
    const got = nexts.slice(0, -1).map((m) => m.payload.data.eventProcessed);
    if (got.length > 0) expect(got.at(-1).cursor).toBe(resumeAfter);

    const resumed = collect(wsClient(leftovers, g.url, user), `subscription($after: String) { eventProcessed(after: $after) { pageUrl } }`, { after: resumeAfter });
    await resumed.until(sent - got.length);
    const all = [...got.map((e: { pageUrl: string }) => e.pageUrl), ...resumed.data('eventProcessed').map((e) => e.pageUrl)];
    expect(all).toEqual(Array.from({ length: sent }, (_, i) => `/e${i}`));
  }, 120_000);

  it('bounds subscriptions per connection and connections per instance', async () => {
    const g = await startGateway(leftovers, { WS_MAX_SUBSCRIPTIONS: '2', WS_MAX_CONNECTIONS: '1' });
    const client = wsClient(leftovers, g.url, token('greedy'));
    collect(client, SUB);
    collect(client, SUB);
    await waitFor(() => (g.app.hubSubscribers() === 2 ? true : undefined));
    const third = collect(client, SUB);
    await waitFor(() => (third.error ? true : undefined));
    expect((third.error as Array<{ extensions: { code: string } }>)[0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');

    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${g.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(503);
  });

  it('applies the depth and cost limits to subscriptions too', async () => {
    const g = await startGateway(leftovers, { MAX_QUERY_COST: '20' });
    const client = wsClient(leftovers, g.url, token('u'));
    const fields = Array.from({ length: 25 }, (_, i) => `f${i}: pageUrl`).join(' ');
    const sub = collect(client, `subscription { eventProcessed { ${fields} } }`);
    await waitFor(() => (sub.error ? true : undefined));
    expect((sub.error as Array<{ extensions: { code: string } }>)[0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');
  });
});
