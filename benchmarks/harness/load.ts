import { join } from 'node:path';
import { ROOT } from './config';
import { start } from './processes';

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  method?: string;
}

/** Runs autocannon in a process of its own against one request shape; throws if it printed no results. */
export async function load(o: LoadOptions): Promise<LoadResult> {
  const args = ['-c', String(o.connections), '-d', String(o.seconds), '-m', o.method ?? 'POST', '--json', '--renderStatusCodes', 'false'];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (o.body) args.push('-b', o.body);
  args.push(o.url);
  const p = start(join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'), {}, args);
  await p.exited;
  const json = p.output().slice(p.output().indexOf('{"'));
  const r = JSON.parse(json.slice(0, json.lastIndexOf('}') + 1)) as {
    requests: { total: number; average: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
    duration: number;
  };
  return { requests: r.requests.total, perSecond: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

/** A warm-up of `warmup` seconds, not counted, then the measured run of `o.seconds`. */
export async function warmedLoad(o: LoadOptions, warmup: number): Promise<LoadResult> {
  await load({ ...o, seconds: warmup });
  return load(o);
}
