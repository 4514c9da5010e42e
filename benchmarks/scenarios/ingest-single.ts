import { withDb } from '../harness/database';
import { formatCpu } from '../harness/accounting';
import { gateway, gatewayEnv } from '../harness/gateway';
import { load } from '../harness/load';
import { formatProduce, produceReading, type ProduceReading } from '../harness/metrics';
import { compiled, freePort } from '../harness/processes';
import { plus, since } from '../harness/readings';
import { USER, jsonHeaders } from '../harness/tokens';
import { alternatingRounds, meanP50, perSecond, tally, tallyLoad, type Tally } from './rounds';
import { measurePeer, measureReference } from './references';
import type { Scenario } from './scenario';

const SCENARIO = '1 single ingest';
const RECORD = JSON.stringify({
  query: 'mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId partition offset } }',
  variables: { input: { type: 'PAGE_VIEW', pageUrl: '/home', sessionId: 's1' } },
});
const NOOP = JSON.stringify({ query: 'query Q { serverTime }' });

/**
 * Scenario 1: one event per mutation at fixed concurrency, against references. The gateway and
 * the gateways of (a) and (a2) run side by side and are measured in alternating rounds, so drift
 * of the machine over the run falls on all of them alike.
 */
export const ingestSingle: Scenario = async ({ options: { seconds, warmup }, report, topics }) => {
  await withDb(async (db) => {
    const gw = await gateway(gatewayEnv(topics.prefix(), db, await freePort(), { ROLES: 'gateway' }), 'ingest-single');
    // (a) the no-op mutation: the same gateway stack and token answering recordActivity with
    // recording taken out; (a2) recording without Kafka (benchmarks/partial-gateway.ts).
    const partial = async (part: 'graphql' | 'no-kafka') =>
      gateway(gatewayEnv(topics.prefix(), db, await freePort(), { ROLES: 'gateway', PART: part }), `ingest-single-${part}`, compiled('partial-gateway'));
    const pa = await partial('graphql');
    const pa2 = await partial('no-kafka');
    try {
      type Target = Tally & { key: string; url: string; pid: number; body: string };
      const target = (key: string, g: { url: string; pid: number }, body: string): Target => ({ ...tally(), key, url: g.url, pid: g.pid, body });
      const targets = [target('single', gw, RECORD), target('a', pa, RECORD), target('a2', pa2, RECORD), target('a0', gw, NOOP)];
      const hit = (t: Target, s: number) => load({ url: `${t.url}/graphql`, body: t.body, headers: jsonHeaders(USER), connections: 64, seconds: s });
      for (const t of targets) await hit(t, warmup);
      let produced: ProduceReading | undefined;
      await alternatingRounds(targets, seconds, async (t, s) => {
        // The gateway's produce requests are read around its own rounds only, outside the CPU window.
        const produce0 = t.key === 'single' ? await produceReading(gw.url) : undefined;
        await tallyLoad(t, t.pid, () => hit(t, s));
        if (produce0) produced = plus(produced, since(produce0, await produceReading(gw.url)));
      });
      const lat = (t: Target) => `p50 ${meanP50(t)} ms, p99 ${Math.max(...t.p99)} ms (worst round)`;
      const note = (t: Target) => `${lat(t)}, errors ${t.errors}; ${formatCpu(t.cpu!, t.seconds)}`;
      const [ours, noop, noKafka, query] = targets as [Target, Target, Target, Target];
      const single = perSecond(ours);
      const a = perSecond(noop);
      report.row(SCENARIO, 'recordActivity', single, 'events/s', `${note(ours)}; ${formatProduce(produced!, ours.seconds)}`);
      report.row(SCENARIO, '(a) same stack and token, recordActivity as a no-op', a, 'req/s', note(noop));
      report.row(SCENARIO, '(a0) same gateway, `serverTime` query', perSecond(query), 'req/s', `${(perSecond(query) / a).toFixed(2)} of (a); ${note(query)}`);
      report.row(SCENARIO, '(a2) recorded, acknowledged without Kafka', perSecond(noKafka), 'req/s', `${(perSecond(noKafka) / a).toFixed(2)} of (a); ${note(noKafka)}`);

      const b = await measureReference('ceiling-apollo', {}, 'the Apollo ceiling', (port) => ({ url: `http://127.0.0.1:${port}/graphql`, body: RECORD, headers: jsonHeaders() }), seconds, warmup);
      report.row(SCENARIO, '(b) Apollo executeHTTPGraphQLRequest, no-op, no auth', b.perSecond, 'req/s');
      const c = await measurePeer(topics, seconds, warmup);
      report.row(SCENARIO, '(c) hand-wired peer (Express, verify, send per request)', c.perSecond, 'events/s', `p50 ${c.p50} ms`);
      report.ratio('single ingest / (a)', single / a, 0.85);
      report.ratio('single ingest / (b)', single / b.perSecond, 0.5);
      report.ratio('single ingest / (c)', single / c.perSecond, 3);
    } finally {
      await Promise.all([gw.stop(), pa.stop(), pa2.stop()]);
    }
  });
};
