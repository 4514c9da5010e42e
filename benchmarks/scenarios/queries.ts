import { send } from '../harness/clients';
import { load } from '../harness/load';
import { metric } from '../harness/metrics';
import { ANALYST, SERVICE, jsonHeaders } from '../harness/tokens';
import { until } from '../harness/wait';
import { withFullGateway } from './deployments';
import type { Scenario } from './scenario';

const SCENARIO = '6 queries';

/** Scenario 6: processedEvents(first: 100) with user fields over a populated store. */
export const queries: Scenario = async ({ options: { seconds, warmup }, report, topics }) => {
  await withFullGateway(topics, 'queries', async (url) => {
    const headers = jsonHeaders(ANALYST);
    const filled = await send(url, SERVICE, 1000, 5);
    if (filled.accepted < 1000) throw new Error(`only ${filled.accepted} of ${filled.sent} events were accepted to fill the store`);
    await until(async () => {
      const r = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: '{ processedEvents(first: 1) { totalCount } }' }) });
      const b = (await r.json()) as { data: { processedEvents: { totalCount: number } } };
      return b.data.processedEvents.totalCount >= filled.accepted ? true : undefined;
    }, 120_000, `${filled.accepted} stored events`);
    const body = JSON.stringify({ query: '{ processedEvents(first: 100) { edges { node { eventId type occurredAt user { totalEvents segment } } } pageInfo { endCursor } } }' });
    await load({ url: `${url}/graphql`, body, headers, connections: 16, seconds: warmup });
    const s0 = await metric(url, 'store_statements');
    const r = await load({ url: `${url}/graphql`, body, headers, connections: 16, seconds });
    const statements = (await metric(url, 'store_statements')) - s0;
    report.row(SCENARIO, 'processedEvents(first: 100) with user', r.perSecond, 'req/s', `p50 ${r.p50} ms, p99 ${r.p99} ms`);
    report.row(SCENARIO, 'SQL statements per request', statements / Math.max(1, r.requests), 'statements', 'the processor writes meanwhile too');
  });
};
