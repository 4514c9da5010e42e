import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import WebSocket from 'ws';
import { TokenVerifier } from '../../src/auth/jwt';
import { createLogger } from '../../src/logger';
import type { Loaders } from '../../src/resolvers/loaders';
import { GatewayServer, type GatewayServerOptions } from '../../src/server/http-server';
import { Metrics } from '../../src/server/metrics';
import { Leftovers, TEST_SECRET, token, waitFor } from '../support/harness';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

/** Resolvers of `held` wait here until the test lets them answer. */
const held: Array<() => void> = [];
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      ping: { type: GraphQLString, resolve: () => 'pong' },
      held: { type: GraphQLString, resolve: () => new Promise((resolve) => held.push(() => resolve('released'))) },
    },
  }),
});

async function startServer(options: Partial<GatewayServerOptions> = {}): Promise<{ server: GatewayServer; url: string }> {
  const server = new GatewayServer({
    schema,
    verifier: new TokenVerifier({ algorithm: 'HS256', secret: TEST_SECRET, generated: false }),
    metrics: new Metrics(),
    logger: createLogger('silent'),
    readiness: [],
    development: false,
    introspection: true,
    maxBodyBytes: 1024,
    corsOrigins: [],
    maxQueryDepth: 12,
    maxQueryCost: 20_000,
    createLoaders: () => ({}) as Loaders,
    websocket: { maxConnections: 10, maxSubscriptionsPerConnection: 5, deflate: false, keepAliveMs: 30_000 },
    ...options,
  });
  await server.start(0, '127.0.0.1');
  leftovers.add(() => server.stop(0));
  return { server, url: `http://127.0.0.1:${server.port}` };
}

const post = (url: string, query: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

/** A request on a connection of its own, so a closed listener shows as a refused connection. */
function freshRequest(url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function acknowledgedSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  leftovers.add(() => ws.terminate());
  const acked = new Promise<void>((resolve) => ws.on('message', (m) => (JSON.parse(m.toString()).type === 'connection_ack' ? resolve() : undefined)));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token('w')}` } }));
  await acked;
  return ws;
}

describe('shutting down', () => {
  it('closes WebSockets with 1001, stops accepting, and lets an in-flight request finish within the grace period', async () => {
    const { server, url } = await startServer();
    const ws = await acknowledgedSocket(url);
    const closedWith = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const inFlight = post(url, '{ held }');
    await waitFor(() => (held.length === 1 ? true : undefined), 5_000, 'the request to be running');

    const started = Date.now();
    const stopped = server.stop(10_000);
    expect(await closedWith).toBe(1001);
    await waitFor(
      () => freshRequest(url, '/health').then(() => undefined, (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? true : undefined)),
      5_000,
      'new connections to be refused',
    );
    held.shift()!();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { held: 'released' } });
    await stopped;
    // The keep-alive socket of the finished request was ended, not left to the grace period.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('drops a request still running when the grace period is over', async () => {
    const { server, url } = await startServer();
    const inFlight = post(url, '{ held }');
    await waitFor(() => (held.length === 1 ? true : undefined), 5_000, 'the request to be running');
    const started = Date.now();
    await server.stop(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(inFlight).rejects.toThrow();
    held.shift()!();
  });
});

describe('request bodies', () => {
  it('answers 413 past the limit, whether the body declares its length or comes in chunks', async () => {
    const { url } = await startServer();
    const declared = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ ping }', padding: 'x'.repeat(2_000) }),
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ error: 'payload too large', maxBytes: 1024 });

    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      Readable.from(Array.from({ length: 8 }, () => Buffer.alloc(512, 0x20))).pipe(req);
    });
    expect(chunked).toBe(413);

    const small = await post(url, '{ ping }');
    expect(await small.json()).toEqual({ data: { ping: 'pong' } });
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    fetch(`${url}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

  it('answers the preflight of an allowed origin and marks its responses, and nothing for other origins', async () => {
    const { url } = await startServer({ corsOrigins: ['https://app.example'] });
    const ok = await preflight(url, 'https://app.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(ok.headers.get('access-control-allow-headers')).toBe('authorization, content-type, apollo-require-preflight');
    expect(ok.headers.get('access-control-max-age')).toBe('600');

    const allowed = await post(url, '{ ping }', { origin: 'https://app.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('vary')?.toLowerCase()).toContain('origin');
    expect(await allowed.json()).toEqual({ data: { ping: 'pong' } });

    const other = await post(url, '{ ping }', { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(url, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await post(url, '{ ping }')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows any origin with *, and none when no origin is configured', async () => {
    const open = await startServer({ corsOrigins: ['*'] });
    expect((await preflight(open.url, 'https://any.example')).headers.get('access-control-allow-origin')).toBe('*');
    const closed = await startServer();
    const refused = await preflight(closed.url, 'https://any.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-methods')).toBeNull();
  });
});
