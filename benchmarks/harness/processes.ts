import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './config';
import { until } from './wait';

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** Settles when the process has exited, however early that was. */
  exited: Promise<void>;
  /** SIGTERM, then SIGKILL if it is still there after 15 s. */
  stop(): Promise<void>;
  /** The last 20,000 characters of its stdout and stderr. */
  output(): string;
}

/**
 * Starts a Node process running compiled JS (or TS through tsx's require hook, in the same
 * process, so `pid` is the process doing the work), keeping the tail of its output.
 */
export function start(script: string, env: Record<string, string>, args: string[] = [], nodeArgs: string[] = []): Proc {
  const hook = script.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : [];
  const child = spawn(process.execPath, [...hook, ...nodeArgs, script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    pid: child.pid!,
    exited,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The figures a bench process prints as JSON on its last line of output; throws, with the output's tail, if there are none. */
export function result<T>(p: Proc): T {
  const last = p.output().trim().split('\n').at(-1)!;
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`no figures from process ${p.pid}: ${p.output().slice(-2_000)}`);
  }
}

/** Runs a bench process to its end and returns the figures it printed last. */
export async function runToEnd<T>(script: string, env: Record<string, string>, args: string[] = []): Promise<T> {
  const p = start(script, env, args);
  await p.exited;
  return result<T>(p);
}

/**
 * Starts a server process and waits until it prints `ready`. One that is not ready within `ms`
 * is stopped, so that a failed scenario leaves no server holding CPU into the next one.
 */
export async function startReady(script: string, env: Record<string, string>, args: string[], what: string, ms = 30_000): Promise<Proc> {
  const p = start(script, env, args);
  try {
    await until(async () => (p.output().includes('ready') ? true : undefined), ms, what);
  } catch (err) {
    await p.stop();
    throw err;
  }
  return p;
}

/** A bench process compiled by `tsc -p tsconfig.bench.json` (every process the bench starts runs compiled). */
export function compiled(name: string): string {
  return join(ROOT, 'dist', 'benchmarks', `${name}.js`);
}

/** A TCP port free on 127.0.0.1 at the time of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
