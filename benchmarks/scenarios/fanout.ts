import { cpuSeconds, rssMb, settle } from '../harness/accounting';
import { send, subscribers } from '../harness/clients';
import { metric } from '../harness/metrics';
import { compiled, freePort, result, start, startReady } from '../harness/processes';
import { SERVICE } from '../harness/tokens';
import { until } from '../harness/wait';
import { r2 } from '../report';
import { withSplitGateway } from './deployments';
import type { Scenario } from './scenario';

const SCENARIO = '5 fan-out';

/**
 * Scenario 5: many idle-ish subscribers and a steady stream: memory and CPU per delivered message,
 * at two rates on the same subscribers. At the first (about 50,000 deliveries a second) events are
 * mostly further apart than one fan-out to every socket takes, and most messages are a write of
 * their own; at four times that they come closer together, and what a socket gets in one turn
 * leaves in one write: the capacity the gateway has when it is the bottleneck. Then references
 * with the same sockets and messages a second, each a server of its own.
 */
export const fanout: Scenario = async ({ options: { seconds, subscribers: n }, report, topics }) => {
  const rate = Math.max(1, Math.round(50_000 / n));
  let steadyMicros = 0;
  await withSplitGateway(topics, 'fanout', async (url, pid) => {
    const rssBefore = rssMb(pid);
    const subs = await subscribers(url, n, 'count', 0);
    const rssIdle = rssMb(pid);
    const phase = async (eventsPerSecond: number) => {
      await settle();
      const delivered0 = await metric(url, 'subscription_messages_total');
      const writes0 = await metric(url, 'subscription_writes_total');
      const cpu0 = cpuSeconds(pid);
      const { accepted } = await send(url, SERVICE, eventsPerSecond, seconds);
      // Until every event accepted has been delivered to every subscriber (or 30 s).
      const target = delivered0 + accepted * n;
      await until(async () => ((await metric(url, 'subscription_messages_total')) >= target ? true : undefined), 30_000, 'the fan-out to finish').catch(() => undefined);
      const cpu = cpuSeconds(pid) - cpu0;
      const delivered = (await metric(url, 'subscription_messages_total')) - delivered0;
      const writes = (await metric(url, 'subscription_writes_total')) - writes0;
      return { rate: eventsPerSecond, delivered, writes, micros: (cpu / Math.max(1, delivered)) * 1e6, active: await metric(url, 'subscriptions_active') };
    };
    const steady = await phase(rate);
    steadyMicros = steady.micros;
    const fast = await phase(rate * 4);
    const s = await subs.stop();
    report.row(SCENARIO, `gateway RSS with ${s.connected} subscribers`, rssIdle, 'MB', `${r2(rssBefore)} MB before they connected`);
    for (const p of [steady, fast]) {
      report.row(SCENARIO, `delivered, ${p.rate} events/s to all`, p.delivered / seconds, 'messages/s', `${r2(p.delivered / Math.max(1, p.writes))} messages a write; ${p.active} subscriptions active after`);
      report.row(SCENARIO, `gateway CPU per delivered message, ${p.rate} events/s`, p.micros, 'µs', 'gateway process (ROLES=gateway: recording, fan-out consumer, subscribers); processor and fraud detector in a second process');
    }
    report.row(SCENARIO, 'received by the clients', s.received, 'messages', `${steady.delivered + fast.delivered} delivered`);
    report.ratio(`RSS MB with ${n} subscribers`, rssIdle, 600, false);
    report.ratio(`CPU µs per delivered message, ${steady.rate} events/s`, steady.micros, 10, false);
    report.ratio(`CPU µs per delivered message, ${fast.rate} events/s`, fast.micros, 10, false);
  });

  /** Runs a reference server and its clients until the server prints its figures, and returns them. */
  const reference = async <T>(script: string, serverArgs: (port: number) => string[], clients: (port: number) => [string, string[]]): Promise<T> => {
    await settle();
    const port = await freePort();
    const args = serverArgs(port);
    const server = await startReady(compiled(script), {}, args, `the reference server ${script} ${args.join(' ')}`);
    const [clientScript, clientArgs] = clients(port);
    const readers = start(compiled(clientScript), {}, clientArgs);
    await server.exited;
    await readers.stop();
    return result<T>(server);
  };
  const ofIt = (micros: number) => `the gateway at ${rate} events/s ${r2(steadyMicros / micros)} of it`;
  // The same sockets and messages a second through a bare `ws` server, and as plain TCP writes of
  // the same frames (the floor of one write a message).
  type Sent = { sent: number; cpuMicrosPerMessage: number };
  const bare = (kind: 'ws' | 'tcp') =>
    reference<Sent>('raw-fanout', (port) => ['server', String(port), String(n), String(rate), String(seconds), kind], (port) => ['raw-fanout', ['clients', String(port), String(n), kind]]);
  const ws = await bare('ws');
  report.row(SCENARIO, 'bare ws server, pre-serialized message (reference)', ws.cpuMicrosPerMessage, 'µs', `CPU per message sent, ${ws.sent} sent to ${n} sockets; ${ofIt(ws.cpuMicrosPerMessage)}`);
  const tcp = await bare('tcp');
  // The yardstick: a plain graphql-ws and type-graphql server executing the subscription
  // for every subscriber, at a fifth of the rate (it spends several times as much per message).
  const plainRate = Math.max(1, Math.round(rate / 5));
  const plain = await reference<{ delivered: number; cpuMicrosPerMessage: number }>('plain-subscriptions', (port) => [String(port), String(n), String(plainRate), String(seconds)], (port) => [
    'subscribers',
    [`http://127.0.0.1:${port}`, SERVICE, String(n), 'count', '0'],
  ]);
  report.row(SCENARIO, 'plain graphql-ws + type-graphql server, executing per subscriber (reference)', plain.cpuMicrosPerMessage, 'µs', `CPU per delivered message, ${plain.delivered} delivered at ${plainRate} events/s to ${n} subscribers; ${ofIt(plain.cpuMicrosPerMessage)}`);
  report.row(SCENARIO, 'plain TCP write of the framed message (floor)', tcp.cpuMicrosPerMessage, 'µs', `CPU per write, one a message, ${tcp.sent} to ${n} sockets, no WebSocket library; ${ofIt(tcp.cpuMicrosPerMessage)}`);
};
