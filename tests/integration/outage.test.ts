import { Leftovers, startGateway, token, waitFor } from '../support/harness';
import { readTopic, recordCount, testKafka } from '../support/kafka';
import { SecondBroker } from '../support/second-broker';
import { collect, wsClient } from '../support/subscriptions';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

const RECORD = `mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId partition offset } }`;

describe('when Kafka goes away', () => {
  it('answers SERVICE_UNAVAILABLE within a bounded time, records nothing, and recovers after the broker returns, live subscriptions included', async () => {
    const broker = await SecondBroker.create();
    broker.up();
    leftovers.add(() => broker.down());
    const timeoutMs = 3_000;
    const gw = await startGateway(leftovers, { KAFKA_BROKERS: broker.address, PUBLISH_TIMEOUT_MS: String(timeoutMs), PRODUCER_RETRIES: '2' });
    const record = async (n: number) => {
      const res = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token('outage-user')}` },
        body: JSON.stringify({ query: RECORD, variables: { input: { type: 'PAGE_VIEW', pageUrl: `/${n}` } } }),
      });
      return (await res.json()) as { data?: any; errors?: Array<{ extensions: { code: string } }> };
    };
    const live = collect(wsClient(leftovers, gw.url, token('outage-user')), `subscription { eventProcessed { pageUrl } }`);
    await waitFor(() => (gw.app.hubSubscribers() > 0 ? true : undefined), 10_000, 'the subscription');
    expect((await record(1)).errors).toBeUndefined();
    await live.until(1);

    broker.down();
    const started = Date.now();
    const failed = await record(2);
    const elapsed = Date.now() - started;
    expect(failed.data).toBeNull();
    expect(failed.errors![0]!.extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(elapsed).toBeLessThan(timeoutMs + 5_000);
    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).checks.kafka).toMatch(/^unavailable/);

    broker.up();
    // The same gateway process records again once the broker is back.
    await waitFor(async () => ((await record(3)).errors ? undefined : true), 60_000, 'recording to work again');
    expect((await fetch(`${gw.url}/ready`)).status).toBe(200);
    // Events recorded after the broker's return reach a subscriber of this instance promptly: each
    // consumer group's rejoin first waits out its old member's session (about 30 s with 30 s
    // sessions, past this deadline).
    let n = 4;
    const seen = (url: string) => live.data('eventProcessed').some((e) => e.pageUrl === url);
    await waitFor(async () => (seen('/3') ? true : void (await record(n++))), 20_000, 'a live event after the broker returned');
    expect(live.data('eventProcessed').map((e) => e.pageUrl)).toContain('/3');
    const kafka = testKafka(broker.address);
    const count = await recordCount(kafka, gw.config.kafka.topics.activity);
    const pages = (await readTopic(kafka, gw.config.kafka.topics.activity, count)).map((r) => r.json.pageUrl);
    // What was refused is not in the log; what was accepted before and after is.
    expect(pages).not.toContain('/2');
    expect(pages).toContain('/1');
    expect(pages).toContain('/3');
  }, 180_000);
});
