import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { App } from '../app';
import { createLogger } from '../logger';
import type { FromRoleThread, RoleThreadData, ToRoleThread } from './thread-messages';

/**
 * The entry of a role's thread: an app of its own with the roles it was given (processor, fraud),
 * its own store connection and Kafka clients, answering the main thread's requests for its
 * metrics and stopping when told to.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('role-worker runs as a worker thread');
  const { config, storeSchema } = workerData as RoleThreadData;
  // Straight to the process's stdout, synchronously: a thread's own stdout is relayed through the
  // main thread, and what it holds when the thread exits is lost.
  const logger = createLogger(config.logLevel, pino.destination({ dest: 1, sync: true })).child({ role: [...config.roles].join(',') });
  const app = new App(config, logger, { processMetrics: false, storeSchema });
  const send = (m: FromRoleThread) => port.postMessage(m);
  port.on('message', (m: ToRoleThread) => {
    if (m.type === 'metrics') {
      void app.metrics.registry.getMetricsAsJSON().then((metrics) => send({ type: 'metrics', id: m.id, metrics }));
    } else if (m.type === 'stop') {
      // In a worker, process.exit ends this thread only, with what stopping left behind.
      void app.stop().then(() => process.exit(0));
    }
  });
  try {
    await app.start();
  } catch (err) {
    send({ type: 'failed', message: (err as Error).message });
    process.exit(1);
  }
  send({ type: 'ready' });
}

void main();
