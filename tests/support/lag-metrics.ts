import type { App } from '../../src/app';

/** One `kafka_consumer_lag` series. */
export interface LagSeries {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/** The `kafka_consumer_lag` series of a Prometheus text exposition. */
export function lagSeries(exposition: string): LagSeries[] {
  const out: LagSeries[] = [];
  for (const line of exposition.split('\n')) {
    const m = /^kafka_consumer_lag\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    out.push({ group: labels.group!, topic: labels.topic!, partition: Number(labels.partition), lag: Number(m[2]) });
  }
  return out;
}

/** The lag series of a gateway's `/metrics`, over HTTP as a scraper reads them. */
export async function scrapedLag(url: string): Promise<LagSeries[]> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return lagSeries(await res.text());
}

/** The lag series of an app without the gateway role (nothing serves its metrics). */
export async function registryLag(app: App): Promise<LagSeries[]> {
  return lagSeries(await app.metrics.registry.metrics());
}

/** The series of one group on one topic, by partition. */
export function ofGroup(series: LagSeries[], group: string, topic: string): LagSeries[] {
  return series.filter((s) => s.group === group && s.topic === topic).sort((a, b) => a.partition - b.partition);
}

export const total = (series: LagSeries[]): number => series.reduce((n, s) => n + s.lag, 0);
