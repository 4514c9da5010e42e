// The gateway's clients as processes of their own (benchmarks/subscribers.ts, benchmarks/sender.ts),
// so that their CPU is not the gateway's and can be read apart.
import { metric } from './metrics';
import { compiled, result, runToEnd, start, type Proc } from './processes';
import { ANALYST } from './tokens';
import { until } from './wait';

/** What subscribers.ts prints when stopped; latencies in ms, measured in `latency` mode only. */
export interface SubscribersResult {
  connected: number;
  received: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Opens `count` subscribers of eventProcessed (see subscribers.ts for `mode`, `from` and a
 * `per-user:` token) and waits until the gateway counts all of them as subscribed, so that
 * no event sent afterwards misses one. `stop` ends them and returns what they received.
 */
export async function subscribers(url: string, count: number, mode: 'latency' | 'count', from: number, token = ANALYST): Promise<{ stop(): Promise<SubscribersResult> }> {
  const p = start(compiled('subscribers'), {}, [url, token, String(count), mode, String(from)]);
  await until(async () => (/ready \d+/.test(p.output()) ? true : undefined), 300_000, `${count} subscribers`);
  await until(async () => ((await metric(url, 'subscriptions_active')) >= count ? true : undefined), 120_000, 'the subscriptions to register');
  return {
    stop: async () => {
      await p.stop();
      return result<SubscribersResult>(p);
    },
  };
}

/** What sender.ts prints at its end: the events of the measured seconds, without the warm-up's. */
export interface SenderResult {
  sent: number;
  accepted: number;
  failed: number;
}

/** Starts sending recordActivity at `rate` a second for `warmup` and then `seconds` seconds (read the figures with `result` once it has exited). */
export function startSender(url: string, token: string, rate: number, seconds: number, warmup?: number): Proc {
  return start(compiled('sender'), {}, [url, token, String(rate), String(seconds), ...(warmup === undefined ? [] : [String(warmup)])]);
}

/** Sends recordActivity at `rate` a second for `seconds` seconds and returns the sender's figures. */
export function send(url: string, token: string, rate: number, seconds: number): Promise<SenderResult> {
  return runToEnd<SenderResult>(compiled('sender'), {}, [url, token, String(rate), String(seconds)]);
}
