import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config, ProcessRole } from '../config';
import type { Logger } from '../logger';
import type { FromRoleThread, RoleThreadData, ToRoleThread } from './thread-messages';

export interface RoleThreadOptions {
  /** The process's configuration; the thread runs `roles` of it. */
  config: Config;
  roles: readonly ProcessRole[];
  /** The store's PostgreSQL schema, when not the default (tests). */
  storeSchema?: string;
  logger: Logger;
  /** How long a thread may take to stop before it is terminated. */
  stopTimeoutMs?: number;
  /** After this many crashes within `crashWindowMs` the thread is not restarted again. */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** Called when the thread crashed too often to be restarted; the process should exit non-zero. */
  onGiveUp: (reason: string) => void;
}

type State = 'created' | 'starting' | 'ready' | 'down' | 'stopping' | 'stopped';

// Longer than the lag gauges give the broker (2 s), shorter than a scrape's usual timeout.
const METRICS_TIMEOUT_MS = 5_000;

/**
 * Where the thread's entry is: the compiled file next to this one, or, when the gateway runs from
 * TypeScript (`npm run dev`, tests), the source loaded through tsx in the new thread.
 */
function workerFor(config: Config, roles: readonly ProcessRole[], storeSchema: string | undefined): Worker {
  const js = join(__dirname, 'role-worker.js');
  const workerData: RoleThreadData = { config: { ...config, roles: new Set(roles) }, storeSchema };
  if (existsSync(js)) return new Worker(js, { workerData });
  const ts = join(__dirname, 'role-worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(ts)});`, { eval: true, workerData });
}

/**
 * Roles (processor, fraud) run in a thread of their own, so that their work (parsing groups,
 * the store's round trips, fraud windows) does not wait in line with the requests and sockets the
 * main thread serves. This supervises it: starts it and waits until its roles are up, restarts it
 * when it crashes (and gives up after repeated crashes), reads its metrics, and stops it.
 */
export class RoleThread {
  private worker: Worker | undefined;
  private state: State = 'created';
  private crashes: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, (m: MetricObjectWithValues<MetricValue<string>>[]) => void>();
  private lastError = '';
  readonly name: string;

  constructor(private readonly o: RoleThreadOptions) {
    this.name = o.roles.join(',');
  }

  /** Whether the thread's roles are up; the reason when not. */
  health(): { ok: true } | { ok: false; reason: string } {
    if (this.state === 'ready') return { ok: true };
    return { ok: false, reason: `${this.name} thread is ${this.state}${this.lastError ? `: ${this.lastError}` : ''}` };
  }

  /**
   * Starts the thread and resolves once its roles are up.
   * @throws when they fail to start (the thread's message says why).
   */
  async start(): Promise<void> {
    this.state = 'starting';
    const worker = workerFor(this.o.config, this.o.roles, this.o.storeSchema);
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (m: FromRoleThread) => {
        if (m.type === 'ready') {
          started = true;
          this.state = 'ready';
          this.lastError = '';
          this.o.logger.info({ thread: this.name }, 'role thread ready');
          resolve();
        } else if (m.type === 'failed') {
          this.lastError = m.message;
        } else if (m.type === 'metrics') {
          this.pending.get(m.id)?.(m.metrics);
          this.pending.delete(m.id);
        }
      });
      worker.on('error', (err) => {
        this.lastError = err.message;
        this.o.logger.error({ err, thread: this.name }, 'role thread failed');
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (!started) {
          this.state = 'down';
          reject(new Error(`the ${this.name} thread did not start: ${this.lastError || `exit code ${code}`}`));
          return;
        }
        this.onExit(code);
      });
    });
  }

  /** The thread's metrics, or none when it does not answer in time. */
  metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    const worker = this.worker;
    if (!worker || this.state !== 'ready') return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve([]);
      }, METRICS_TIMEOUT_MS);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.postMessage({ type: 'metrics', id } satisfies ToRoleThread);
    });
  }

  /** Ends the thread as a crash would (tests and operators' tooling); it is restarted like one. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Asks the thread to stop its roles in order; terminates it if that takes longer than the bound. */
  async stop(): Promise<void> {
    this.state = 'stopping';
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'stop' } satisfies ToRoleThread);
      const timer = setTimeout(() => {
        this.o.logger.warn({ thread: this.name }, 'role thread did not stop in time; terminating it');
        void worker.terminate();
      }, this.o.stopTimeoutMs ?? 25_000);
      await exited;
      clearTimeout(timer);
    }
    this.state = 'stopped';
  }

  private onExit(code: number): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'down';
    this.lastError ||= `exit code ${code}`;
    const now = Date.now();
    const window = this.o.crashWindowMs ?? 60_000;
    this.crashes = [...this.crashes.filter((t) => now - t < window), now];
    if (this.crashes.length > (this.o.maxCrashes ?? 5)) {
      this.o.logger.fatal({ thread: this.name, crashes: this.crashes.length }, 'role thread keeps crashing; giving up');
      this.o.onGiveUp(`the ${this.name} thread crashed ${this.crashes.length} times within ${window} ms`);
      return;
    }
    const delay = Math.min(10_000, 250 * 2 ** (this.crashes.length - 1));
    this.o.logger.error({ thread: this.name, code, restartInMs: delay }, 'role thread exited; restarting it');
    this.restartTimer = setTimeout(() => {
      this.start().catch((err: Error) => {
        this.o.logger.error({ err, thread: this.name }, 'role thread restart failed');
        this.onExit(1);
      });
    }, delay);
  }
}
