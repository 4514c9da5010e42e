// Ceiling for batched ingest, and the filler for the processing scenario: a bare KafkaJS
// idempotent producer sending batches with sendBatch, acks -1.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const [mode, topic, amount, batchArg, concurrencyArg] = process.argv.slice(2) as [string, string, string, string?, string?];
const batch = Number(batchArg ?? 100);
const concurrency = Number(concurrencyArg ?? 4);

function value(i: number): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    schemaVersion: 1, eventId: randomUUID(), userId: `u-${i % 5000}`, type: 'PAGE_VIEW', occurredAt: now, receivedAt: now,
    sessionId: `s-${i % 20000}`, contentId: null, pageUrl: `/p/${i % 50}`, referrer: null, properties: { i },
    device: { type: 'DESKTOP', os: 'Linux', browser: 'Firefox' }, location: { country: 'DE' }, ipAddress: '127.0.0.1', userAgent: 'bench',
  });
}

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'bare', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let sent = 0;
  const started = performance.now();
  const seconds = mode === 'for' ? Number(amount) : Infinity;
  const total = mode === 'fill' ? Number(amount) : Infinity;
  const worker = async () => {
    while (sent < total && performance.now() - started < seconds * 1000) {
      const n = Math.min(batch, total - sent);
      const base = sent;
      sent += n;
      const messages = Array.from({ length: n }, (_, k) => ({ key: `u-${(base + k) % 5000}`, value: value(base + k) }));
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await producer.disconnect();
  process.stdout.write(`${JSON.stringify({ messages: sent, seconds: elapsed, perSecond: sent / elapsed })}\n`);
}
void main();
