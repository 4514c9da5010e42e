import WebSocket from 'ws';
import { HeartbeatDocument, ServerTimeDocument } from '../../src/client';
import { createKafka, KafkaAdmin } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { BROKERS, Leftovers, startGateway, token, type TestGateway } from '../support/harness';

const leftovers = new Leftovers();
let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway(leftovers);
});
afterAll(() => leftovers.dispose());

async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('the gateway server', () => {
  it('answers { __typename } over HTTP', async () => {
    const r = await post({ query: '{ __typename }' }, { authorization: `Bearer ${token('u1')}` });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ data: { __typename: 'Query' } });
  });

  it('answers a typed query with a valid token and refuses it without one', async () => {
    const ok = await gw.client(token('u1')).request(ServerTimeDocument);
    expect(ok.errors).toBeUndefined();
    expect(Math.abs(Date.parse(ok.data!.serverTime) - Date.now())).toBeLessThan(5_000);

    const anonymous = await gw.client().request(ServerTimeDocument);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(anonymous.errors?.[0]?.path).toEqual(['serverTime']);

    const forged = await gw.client('not.a.jwt').request(ServerTimeDocument);
    expect(forged.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('allows introspection without a token when introspection is enabled', async () => {
    const r = await post({ query: '{ __schema { queryType { name } } }' });
    expect(r.json.data.__schema.queryType.name).toBe('Query');
  });

  it('serves /health, /ready and /metrics', async () => {
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const ready = await fetch(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { kafka: 'ok', store: 'ok' } });

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect(metrics).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/ready",status="200"\} \d+/);
  });

  it('answers 404 for unknown paths and 413 for bodies over the limit', async () => {
    expect((await fetch(`${gw.url}/nope`)).status).toBe(404);
    const big = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token('u1')}` },
      body: JSON.stringify({ query: '{ __typename }', padding: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
  });

  it('creates the contract topics at start-up with the configured partitions', async () => {
    const admin = new KafkaAdmin(createKafka({ brokers: [BROKERS], clientId: 'check', logger: createLogger('silent') }));
    await admin.start();
    leftovers.add(() => admin.stop());
    const t = gw.config.kafka.topics;
    const counts = await admin.partitionCounts([t.activity, t.processed, t.alerts, t.dlq]);
    expect(counts.get(t.activity)).toBe(3);
    expect(counts.get(t.processed)).toBe(3);
    expect(counts.get(t.alerts)).toBe(3);
    expect(counts.get(t.dlq)).toBe(1);
  });

  it('serves a subscription over WebSocket on the same port', async () => {
    const client = gw.client(token('u1'));
    const socket = client.socket();
    leftovers.add(() => socket.dispose());
    const ticks: string[] = [];
    for await (const result of client.subscribe(socket, HeartbeatDocument, { intervalMs: 100 })) {
      expect(result.errors).toBeUndefined();
      ticks.push(result.data!.heartbeat);
      if (ticks.length === 3) break;
    }
    expect(ticks).toHaveLength(3);
    expect(Date.parse(ticks[2]!)).toBeGreaterThan(Date.parse(ticks[0]!));
  });

  it('closes a WebSocket whose connection_init carries a bad token with 4403, before any ack', async () => {
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: string[] = [];
    ws.on('message', (m) => messages.push(m.toString()));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer forged' } }));
    const [code] = await new Promise<[number, string]>((r) => ws.once('close', (c, reason) => r([c, reason.toString()])));
    expect(code).toBe(4403);
    expect(messages).toEqual([]);
  });
});
