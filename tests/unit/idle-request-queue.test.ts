import { createKafka } from '../../src/kafka/client';
import { idleRequestQueueInstalled } from '../../src/kafka/idle-request-queue';
import { createLogger } from '../../src/logger';

// A client is created, as in the gateway: that installs the change (no broker is contacted).
createKafka({ brokers: ['127.0.0.1:9092'], clientId: 'patch-test', logger: createLogger('silent') });

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (o: Record<string, unknown>) => Queue;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const made: Queue[] = [];
const queue = (): Queue => {
  const q = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 't', broker: 'b:1', logger: quiet });
  made.push(q);
  return q;
};
afterEach(() => {
  for (const q of made.splice(0)) q.destroy();
});

describe("KafkaJS's request queue while idle", () => {
  it('is changed once a Kafka client is created', () => {
    const schedule = (RequestQueue as unknown as { prototype: Record<string, Record<symbol, unknown>> }).prototype.scheduleCheckPendingRequests!;
    expect(schedule[Symbol.for('activity-gateway.idle-request-queue')]).toBe(true);
    expect(idleRequestQueueInstalled()).toBe(true);
  });

  it('schedules no further check after a check that found nothing pending (KafkaJS 2.2.4 spins a 1 ms timer there)', () => {
    const q = queue();
    q.checkPendingRequests(); // what every response runs
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still schedules the check of pending requests while throttled, as KafkaJS does', () => {
    const q = queue();
    q.throttledUntil = Date.now() + 60_000;
    q.pending.push({ correlationId: 1 });
    q.checkPendingRequests();
    expect(q.pending).toHaveLength(1); // throttled: not sent
    expect(q.throttleCheckTimeoutId).not.toBeNull();
  });
});
