import type { ServerResponse } from 'node:http';
import type { ReadinessCheck } from './gateway-options';
import { sendJson } from './http-io';
import type { Metrics } from './metrics';

/** GET /health: the process answers. */
export function sendHealth(res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

/** GET /ready: every dependency answers and the server is not stopping (503 otherwise, with each check's state). */
export async function sendReadiness(res: ServerResponse, readiness: ReadinessCheck[], stopping: boolean): Promise<void> {
  const results = await Promise.all(
    readiness.map(async (c) => {
      try {
        await c.check();
        return [c.name, 'ok'] as const;
      } catch (err) {
        return [c.name, `unavailable: ${(err as Error).message}`] as const;
      }
    }),
  );
  const checks = Object.fromEntries(results);
  const ok = results.every(([, v]) => v === 'ok') && !stopping;
  sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks });
}

/** GET /metrics: Prometheus text. */
export async function sendMetrics(res: ServerResponse, metrics: Metrics): Promise<void> {
  const text = await metrics.text();
  res.writeHead(200, { 'content-type': metrics.registry.contentType });
  res.end(text);
}
