import { formatCpu } from '../harness/accounting';
import { BROKERS } from '../harness/config';
import { withDb } from '../harness/database';
import { gateway, gatewayEnv } from '../harness/gateway';
import { load } from '../harness/load';
import { compiled, freePort, runToEnd } from '../harness/processes';
import { SERVICE, jsonHeaders } from '../harness/tokens';
import { alternatingRounds, meanP50, perSecond, tally, tallyLoad, type Tally } from './rounds';
import type { Scenario } from './scenario';

const SCENARIO = '2 batched ingest';
const BATCH = 100;
const inputs = Array.from({ length: BATCH }, (_, i) => ({ userId: `b-${i % 50}`, type: 'PAGE_VIEW', pageUrl: `/p/${i % 20}`, sessionId: `s-${i % 50}` }));
const GRAPHQL = JSON.stringify({ query: 'mutation M($inputs: [RecordActivityInput!]!) { recordActivities(inputs: $inputs) { eventId } }', variables: { inputs } });
const REST = JSON.stringify({ batch: inputs });

/** Scenario 2: 100 events per call over GraphQL and REST, against a bare producer. */
export const ingestBatch: Scenario = async ({ options: { seconds, warmup }, report, topics }) => {
  await withDb(async (db) => {
    const p = topics.prefix();
    const gw = await gateway(gatewayEnv(p, db, await freePort(), { ROLES: 'gateway', MAX_BODY_BYTES: String(4 * 1024 * 1024) }), 'ingest-batch');
    try {
      const headers = jsonHeaders(SERVICE);
      const call = { graphql: { url: `${gw.url}/graphql`, body: GRAPHQL }, rest: { url: `${gw.url}/v1/events`, body: REST } };
      for (const c of [call.graphql, call.rest]) await load({ ...c, headers, connections: 16, seconds: warmup });
      // The two paths and the bare producer run in alternating rounds, as in scenario 1.
      type Part = Tally & { key: 'graphql' | 'rest' | 'bare' };
      const parts: Part[] = (['graphql', 'rest', 'bare'] as const).map((key) => ({ ...tally(), key }));
      await alternatingRounds(parts, seconds, async (part, s) => {
        if (part.key === 'bare') {
          const bp = await runToEnd<{ messages: number; seconds: number }>(compiled('bare-producer'), { KAFKA_BROKERS: BROKERS }, ['for', `${p}.activities`, String(s), String(BATCH), '16']);
          part.requests += bp.messages / BATCH;
          part.seconds += bp.seconds;
          return;
        }
        const c = call[part.key];
        await tallyLoad(part, gw.pid, () => load({ ...c, headers, connections: 16, seconds: s }));
      });
      const [g, r, bare] = parts as [Part, Part, Part];
      const note = (x: Part) => `p50 ${meanP50(x)} ms per call, errors ${x.errors}; ${formatCpu(x.cpu!, x.seconds)}`;
      report.row(SCENARIO, 'recordActivities × 100', perSecond(g) * BATCH, 'events/s', note(g));
      report.row(SCENARIO, 'POST /v1/events × 100', perSecond(r) * BATCH, 'events/s', note(r));
      report.row(SCENARIO, 'bare KafkaJS sendBatch × 100 (ceiling)', perSecond(bare) * BATCH, 'events/s');
      // Both ways of batching are judged, each on its own.
      report.ratio('batched ingest recordActivities events/s', perSecond(g) * BATCH, 50_000);
      report.ratio('batched ingest recordActivities / bare producer', perSecond(g) / perSecond(bare), 0.5);
      report.ratio('batched ingest POST /v1/events events/s', perSecond(r) * BATCH, 50_000);
      report.ratio('batched ingest POST /v1/events / bare producer', perSecond(r) / perSecond(bare), 0.5);
    } finally {
      await gw.stop();
    }
  });
};
