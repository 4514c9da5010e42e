// Reference servers that scenarios measure the gateway against, each started alone, warmed up
// and measured once.
import { BROKERS, SECRET } from '../harness/config';
import { warmedLoad, type LoadOptions, type LoadResult } from '../harness/load';
import { compiled, freePort, startReady } from '../harness/processes';
import type { RunTopics } from '../harness/run-topics';
import { USER, jsonHeaders } from '../harness/tokens';

/** Starts `script` on a free port, warms it up, measures it at 64 connections for `seconds`, and stops it. */
export async function measureReference(
  script: string,
  env: Record<string, string>,
  what: string,
  request: (port: number) => Omit<LoadOptions, 'seconds' | 'connections'>,
  seconds: number,
  warmup: number,
): Promise<LoadResult> {
  const port = await freePort();
  const server = await startReady(compiled(script), { PORT: String(port), ...env }, [], what);
  try {
    return await warmedLoad({ ...request(port), connections: 64, seconds }, warmup);
  } finally {
    await server.stop();
  }
}

/** The hand-wired peer (Express, verify, one KafkaJS send per request) on a topic of its own. */
export async function measurePeer(topics: RunTopics, seconds: number, warmup: number): Promise<LoadResult> {
  const topic = `${topics.prefix()}.peer`;
  await topics.create(topic, 6);
  const body = JSON.stringify({ eventType: 'PAGE_VIEW', payload: { pageUrl: '/home' } });
  return measureReference(
    'peer/server',
    { KAFKA_BROKERS: BROKERS, TOPIC: topic, JWT_SECRET: SECRET },
    'the peer',
    (port) => ({ url: `http://127.0.0.1:${port}/events/generate`, body, headers: jsonHeaders(USER) }),
    seconds,
    warmup,
  );
}
