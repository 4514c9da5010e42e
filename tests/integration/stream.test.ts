import { Leftovers, RECORD_MANY, graphql, startGateway, token, waitFor, type TestGateway } from '../support/harness';
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
