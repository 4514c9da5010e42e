import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { simulate } from '../../src/simulator/runner';
import { Leftovers, RECORD_MANY, graphql, startGateway, token, uniqueName, waitFor, type TestGateway } from '../support/harness';
import { caughtUp, recordCount, testKafka } from '../support/kafka';
import { collect, wsClient } from '../support/subscriptions';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());
const root = join(__dirname, '..', '..');

function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
const analyst = token('ana', ['analyst']);

let kafka: Kafka;
beforeAll(() => {
  kafka = testKafka();
});

const detectorDone = (gw: TestGateway) => () =>
  caughtUp(kafka, `${gw.config.kafka.groupPrefix}fraud-detector`, gw.config.kafka.topics.activity).then((ok) => (ok ? true : undefined));

const processorDone = (gw: TestGateway) => async () => {
  const group = `${gw.config.kafka.groupPrefix}activity-processor`;
  const { activity, alerts: alertTopic } = gw.config.kafka.topics;
  return (await caughtUp(kafka, group, activity)) && (await caughtUp(kafka, group, alertTopic)) ? true : undefined;
};

async function alerts(gw: TestGateway): Promise<Array<{ userId: string; rule: string; alertId: string }>> {
  const q = await graphql(gw.url, '{ fraudAlerts(first: 500) { edges { node { alertId userId rule } } } }', {}, analyst);
  return q.data.fraudAlerts.edges.map((e: { node: { userId: string; rule: string; alertId: string } }) => e.node);
}

describe('the fraud detector', () => {
  it('raises exactly one HIGH_VELOCITY alert for a burst, streams it to analysts, lists it, and never raises it again', async () => {
    const gw = await startGateway(leftovers);
    const sub = collect(wsClient(leftovers, gw.url, analyst), 'subscription { fraudAlertRaised { alertId userId rule severity eventIds } }');
    await waitFor(() => (gw.app.hubSubscribers() === 1 ? true : undefined));

    const burst = Array.from({ length: 45 }, (_, i) => ({ type: i % 2 ? 'CLICK' : 'PAGE_VIEW', pageUrl: `/b${i}` }));
    const r = await graphql(gw.url, RECORD_MANY, { inputs: burst }, token('bursty'));
    expect(r.errors).toBeUndefined();
    await sub.until(1);
    await waitFor(detectorDone(gw), 30_000, 'the detector to read the burst');
    const listed = await waitFor(async () => {
      const a = await alerts(gw);
      return a.length > 0 ? a : undefined;
    });
    expect(listed.map((a) => [a.userId, a.rule])).toEqual([['bursty', 'HIGH_VELOCITY']]);
    expect(sub.data('fraudAlertRaised')).toHaveLength(1);
    expect(sub.data('fraudAlertRaised')[0]).toMatchObject({ userId: 'bursty', rule: 'HIGH_VELOCITY', severity: 'MEDIUM' });
    expect(sub.data('fraudAlertRaised')[0].eventIds).toHaveLength(30);

    // A detector that starts over reads the same events and raises the same alert id: nothing new.
    const alertsBefore = await recordCount(kafka, gw.config.kafka.topics.alerts);
    const again = await startGateway(leftovers, { ROLES: 'fraud', KAFKA_GROUP_PREFIX: `${uniqueName('again')}.` }, { share: gw });
    await waitFor(detectorDone(again), 30_000, 'the restarted detector to re-read the burst');
    await waitFor(async () => ((await recordCount(kafka, gw.config.kafka.topics.alerts)) > alertsBefore ? true : undefined));
    await waitFor(async () => {
      const profile = await graphql(gw.url, '{ userProfile(userId: "bursty") { riskScore } }', {}, analyst);
      return profile.data.userProfile.riskScore === 0.25 ? true : undefined;
    });
    const alertRecordsSettled = await recordCount(kafka, gw.config.kafka.topics.alerts);

    // One more event of the same user: neither detector raises anything for it. "Nothing" is only
    // shown once both detectors have read past it and the processor has stored every alert there is.
    const logout = await graphql(gw.url, RECORD_MANY, { inputs: [{ type: 'LOGOUT' }] }, token('bursty'));
    expect(logout.errors).toBeUndefined();
    await waitFor(detectorDone(gw), 30_000, 'the detector to read the LOGOUT');
    await waitFor(detectorDone(again), 30_000, 'the restarted detector to read the LOGOUT');
    expect(await recordCount(kafka, gw.config.kafka.topics.alerts)).toBe(alertRecordsSettled);
    await waitFor(processorDone(gw), 30_000, 'the processor to store the LOGOUT and every alert');
    expect((await alerts(gw)).map((a) => a.alertId)).toEqual(listed.map((a) => a.alertId));
    // A later burst of another user is the subscriber's positive signal: its alert arrives alone.
    const sentinel = await graphql(gw.url, RECORD_MANY, { inputs: burst }, token('sentinel'));
    expect(sentinel.errors).toBeUndefined();
    await sub.until(2);
    expect(sub.data('fraudAlertRaised').map((a: { userId: string }) => a.userId)).toEqual(['bursty', 'sentinel']);
  }, 120_000);

  it('raises nothing for ordinary simulated sessions', async () => {
    const gw = await startGateway(leftovers, { TRUST_PROXY_HOPS: '1' });
    const summary = await simulate({ url: gw.url, token: token('sim', ['service']), rate: 40, users: 200, durationSeconds: 3, fraudShare: 0, seed: 42 });
    expect(summary.accepted).toBeGreaterThan(80);
    expect(summary.rejected).toBe(0);
    await waitFor(detectorDone(gw), 30_000, 'the detector to read the simulated traffic');
    await waitFor(processorDone(gw), 30_000, 'the processor to store the traffic and any alert');
    expect(await recordCount(kafka, gw.config.kafka.topics.alerts)).toBe(0);
    expect(await alerts(gw)).toEqual([]);
  }, 60_000);
});

describe('npm run simulate', () => {
  it('with fraud injection ends with alerts for the injected users only', async () => {
    const gw = await startGateway(leftovers, { TRUST_PROXY_HOPS: '1' });
    // Asynchronously: the gateway under test runs in this process and must keep answering.
    const r = await run(join(root, 'node_modules', '.bin', 'tsx'), [
      join(root, 'src', 'cli', 'simulate.ts'), '--url', gw.url, '--token', token('sim', ['service']),
      '--rate', '40', '--users', '200', '--duration', '4', '--fraud', '0.02', '--seed', '11', '--quiet',
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/sent\s+\d+/);
    expect(r.stderr).toMatch(/latency\s+p50 [\d.]+ ms/);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { accepted: number; rejected: number; fraudsters: string[] };
    expect(summary.rejected).toBe(0);
    expect(summary.fraudsters.length).toBe(4);
    await waitFor(detectorDone(gw), 30_000, 'the detector to read the simulation');
    const raised = await waitFor(async () => {
      const a = await alerts(gw);
      return new Set(a.map((x) => x.userId)).size >= summary.fraudsters.length ? a : undefined;
    }, 20_000, 'an alert for every injected user');
    expect([...new Set(raised.map((a) => a.userId))].sort()).toEqual([...summary.fraudsters].sort());
    const expected: Record<string, string> = { burst: 'HIGH_VELOCITY', expensive: 'HIGH_VALUE_PURCHASE', 'ip-hopping': 'MULTIPLE_IPS', 'country-hopping': 'GEO_JUMP' };
    for (const a of raised) expect(a.rule).toBe(expected[/^sim-fraud-(.+)-\d+$/.exec(a.userId)![1]!]);
  }, 120_000);
});
