// The deployments the subscription scenarios (4 to 6) run against, each on a throwaway schema
// and topics of its own, stopped whatever the scenario did.
import { withDb } from '../harness/database';
import { gateway, gatewayEnv, gatewayProcess } from '../harness/gateway';
import { freePort } from '../harness/processes';
import type { RunTopics } from '../harness/run-topics';

type Body = (url: string, pid: number, db: string) => Promise<void>;

/** One gateway process with every role. */
export async function withFullGateway(topics: RunTopics, label: string, f: Body): Promise<void> {
  await withDb(async (db) => {
    const gw = await gateway(gatewayEnv(topics.prefix(), db, await freePort()), label);
    try {
      await f(gw.url, gw.pid, db);
    } finally {
      await gw.stop();
    }
  });
}

/**
 * A gateway process serving HTTP and WebSocket clients (ROLES=gateway) and a second process with
 * the processor and the fraud detector, on the same topics and database: the deployment where the
 * gateway's own CPU can be read apart from processing. `pid` is the gateway's.
 */
export async function withSplitGateway(topics: RunTopics, label: string, f: Body): Promise<void> {
  await withDb(async (db) => {
    const p = topics.prefix();
    const gw = await gateway(gatewayEnv(p, db, await freePort(), { ROLES: 'gateway' }), label);
    const workers = gatewayProcess(gatewayEnv(p, db, await freePort(), { ROLES: 'processor,fraud' }), `${label}-workers`);
    try {
      await f(gw.url, gw.pid, db);
    } finally {
      await workers.stop();
      await gw.stop();
    }
  });
}
