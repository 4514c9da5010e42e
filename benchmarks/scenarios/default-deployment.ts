import { settle, formatCpu } from '../harness/accounting';
import { withDb } from '../harness/database';
import { gateway, gatewayEnv, gatewayProcess } from '../harness/gateway';
import { load } from '../harness/load';
import { freePort } from '../harness/processes';
import { SERVICE, USER, jsonHeaders } from '../harness/tokens';
import { alternatingRounds, meanP50, perSecond, tally, tallyLoad, type Tally } from './rounds';
import { measurePeer } from './references';
import type { Scenario } from './scenario';

const SCENARIO = '7 default deployment';
const BATCH = 100;
const SINGLE = JSON.stringify({
  query: 'mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { eventId partition offset } }',
  variables: { input: { type: 'PAGE_VIEW', pageUrl: '/home', sessionId: 's1' } },
});
const inputs = Array.from({ length: BATCH }, (_, i) => ({ userId: `d-${i % 50}`, type: 'PAGE_VIEW', pageUrl: `/p/${i % 20}`, sessionId: `s-${i % 50}` }));
const BATCHED = JSON.stringify({ query: 'mutation M($inputs: [RecordActivityInput!]!) { recordActivities(inputs: $inputs) { eventId } }', variables: { inputs } });

/**
 * Scenario 7: the deployment `npm start` gives a user (every role, one command, one process)
 * against the split one (a gateway process and a processor and fraud process), both doing the
 * same work: every recorded event is processed while the next round runs. Each round waits for
 * the machine to settle first, so one deployment's processing backlog does not fall on the other's
 * round.
 */
export const defaultDeployment: Scenario = async ({ options: { seconds, warmup }, report, topics }) => {
  await withDb(async (dbDefault) => {
    await withDb(async (dbSplit) => {
      const body = { MAX_BODY_BYTES: String(4 * 1024 * 1024) };
      const one = await gateway(gatewayEnv(topics.prefix(), dbDefault, await freePort(), body), 'default');
      const p = topics.prefix();
      const split = await gateway(gatewayEnv(p, dbSplit, await freePort(), { ...body, ROLES: 'gateway' }), 'split');
      const workers = gatewayProcess(gatewayEnv(p, dbSplit, await freePort(), { ROLES: 'processor,fraud' }), 'split-workers');
      try {
        type Part = Tally & { deployment: 'default' | 'split'; kind: 'single' | 'batched'; url: string; pid: number };
        const parts: Part[] = [];
        for (const [deployment, g] of [['default', one], ['split', split]] as const) {
          for (const kind of ['single', 'batched'] as const) parts.push({ ...tally(), deployment, kind, url: g.url, pid: g.pid });
        }
        const hit = (part: Part, s: number) =>
          part.kind === 'single'
            ? load({ url: `${part.url}/graphql`, body: SINGLE, headers: jsonHeaders(USER), connections: 64, seconds: s })
            : load({ url: `${part.url}/graphql`, body: BATCHED, headers: jsonHeaders(SERVICE), connections: 16, seconds: s });
        for (const part of parts) await hit(part, warmup);
        await alternatingRounds(parts, seconds, async (part, s) => {
          await settle();
          await tallyLoad(part, part.pid, () => hit(part, s));
        });
        const find = (d: Part['deployment'], k: Part['kind']) => parts.find((x) => x.deployment === d && x.kind === k)!;
        const rate = (x: Part) => perSecond(x) * (x.kind === 'batched' ? BATCH : 1);
        const note = (x: Part) => `p50 ${meanP50(x)} ms, errors ${x.errors}; ${formatCpu(x.cpu!, x.seconds)}`;
        for (const x of parts) {
          const what = `${x.deployment === 'default' ? 'npm start, all roles in one process' : 'split: gateway process + processor and fraud process'}, ${x.kind === 'single' ? 'recordActivity' : 'recordActivities × 100'}`;
          report.row(SCENARIO, what, rate(x), 'events/s', note(x));
        }
        const peer = await measurePeer(topics, seconds, warmup);
        report.row(SCENARIO, 'hand-wired peer (Express, verify, send per request)', peer.perSecond, 'events/s', `p50 ${peer.p50} ms`);
        report.ratio('default deployment single ingest / split', rate(find('default', 'single')) / rate(find('split', 'single')), 0.8);
        report.ratio('default deployment single ingest / peer', rate(find('default', 'single')) / peer.perSecond, 3);
        report.ratio('default deployment batched ingest / split', rate(find('default', 'batched')) / rate(find('split', 'batched')), 0.6);
        report.ratio('default deployment batched ingest events/s', rate(find('default', 'batched')), 40_000);
      } finally {
        await workers.stop();
        await Promise.all([one.stop(), split.stop()]);
      }
    });
  });
};
