/** Reads one metric's value (summed over label sets) from a gateway's Prometheus page at `${url}/metrics`. */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The gateway's produce-request counters (from its /metrics). */
export type ProduceReading = { requests: number; records: number; seconds: number };

export async function produceReading(gatewayUrl: string): Promise<ProduceReading> {
  const [requests, records, seconds] = await Promise.all(
    ['kafka_publish_batch_records_count', 'kafka_publish_batch_records_sum', 'kafka_publish_seconds_sum'].map((name) => metric(gatewayUrl, name)),
  );
  return { requests: requests!, records: records!, seconds: seconds! };
}

/** Produce requests of a delta of readings over `wallSeconds`, as a note: how many, records in each, and their latency. */
export function formatProduce(d: ProduceReading, wallSeconds: number): string {
  if (d.requests <= 0) return 'no produce requests';
  const records = d.records / d.requests;
  const ms = (d.seconds / d.requests) * 1000;
  return `produce requests ${Math.round(d.requests / wallSeconds)}/s of ${records.toFixed(1)} records, ${ms.toFixed(2)} ms each`;
}
