import type { OutgoingRecord } from '../../src/domain/publishing';
import { BatchingPublisher } from '../../src/kafka/publisher';
import { createLogger } from '../../src/logger';

/**
 * The publisher's batching decisions against a stand-in producer whose produce requests answer
 * when the test says (no I/O): which records each request carries, and when it goes.
 */
function harness(lingerMs: number, timeoutMs = 60_000) {
  const requests: Array<{ records: number; answer: () => void }> = [];
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    sendBatch: ({ topicMessages }: { topicMessages: Array<{ topic: string; messages: Array<{ partition: number }> }> }) =>
      new Promise((resolve) => {
        const all = topicMessages.flatMap((t) => t.messages.map((m) => ({ topic: t.topic, partition: m.partition })));
        requests.push({
          records: all.length,
          answer: () => resolve([...new Set(all.map((m) => m.partition))].map((partition) => ({ topicName: 't', partition, baseOffset: '0' }))),
        });
      }),
  };
  const kafka = { producer: () => producer } as unknown as ConstructorParameters<typeof BatchingPublisher>[0];
  const publisher = new BatchingPublisher(kafka, {
    lingerMs,
    maxBatchRecords: 1_000,
    timeoutMs,
    retries: 0,
    partitionsOf: async () => 1,
    logger: createLogger('silent'),
  });
  return { publisher, requests };
}

const record = (i: number): OutgoingRecord => ({ topic: 't', key: 'u', value: String(i), headers: {} });

describe('the batching publisher lingers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('for PRODUCER_LINGER_MS, counted from the oldest queued record: records that waited behind a request in flight go as soon as it returns', async () => {
    const { publisher, requests } = harness(50);
    await publisher.start();
    const first = publisher.publish([record(1)]);
    await jest.advanceTimersByTimeAsync(49);
    expect(requests).toHaveLength(0); // still lingering
    await jest.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(1);

    // Two more queue while the first request is in flight, and wait longer than the linger.
    const later = [publisher.publish([record(2)]), publisher.publish([record(3)])];
    await jest.advanceTimersByTimeAsync(60);
    expect(requests).toHaveLength(1); // one request in flight at a time
    requests[0]!.answer();
    await first;
    // They have lingered already: no new 50 ms wait, they go at the end of this turn.
    await jest.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.records).toBe(2);
    requests[1]!.answer();
    await Promise.all(later);
  });

  it('with 0, until the end of the current turn of the event loop, gathering what that turn queued into one request', async () => {
    const { publisher, requests } = harness(0);
    await publisher.start();
    const calls = [1, 2, 3].map((i) => publisher.publish([record(i)]));
    await Promise.resolve();
    expect(requests).toHaveLength(0);
    // The clock does not move: only what is due now runs.
    await jest.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.records).toBe(3);
    requests[0]!.answer();
    await Promise.all(calls);
  });

  it('not for a publish that is a batch already (the processor\'s group): it goes at the end of the turn and takes the lingering records along', async () => {
    const { publisher, requests } = harness(50);
    await publisher.start();
    const lingering = publisher.publish([record(1)]);
    await jest.advanceTimersByTimeAsync(10);
    expect(requests).toHaveLength(0);
    const group = publisher.publish([record(2), record(3)], { immediate: true });
    await jest.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.records).toBe(3);
    requests[0]!.answer();
    await Promise.all([lingering, group]);

    // Behind a request in flight it goes as soon as that returns; later plain publishes linger again.
    const inFlight = publisher.publish([record(4)], { immediate: true });
    await jest.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(2);
    const behind = publisher.publish([record(5)], { immediate: true });
    requests[1]!.answer();
    await inFlight;
    await jest.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(3);
    requests[2]!.answer();
    await behind;
    const plain = publisher.publish([record(6)]);
    await jest.advanceTimersByTimeAsync(49);
    expect(requests).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(4);
    requests[3]!.answer();
    await plain;
  });
});

describe('the batching publisher times out', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('each publish at its own deadline, in flight or queued, and not one that was answered', async () => {
    const { publisher, requests } = harness(0, 100);
    await publisher.start();
    const outcome = (p: Promise<unknown>) => p.then(() => 'acknowledged', (e: Error) => e.message);
    const answered = outcome(publisher.publish([record(0)]));
    await jest.advanceTimersByTimeAsync(0);
    requests[0]!.answer();
    expect(await answered).toBe('acknowledged');

    const stuck = outcome(publisher.publish([record(1)])); // its request never answers
    await jest.advanceTimersByTimeAsync(40);
    const queued = outcome(publisher.publish([record(2)])); // waits behind it
    let settled = 0;
    void stuck.then(() => settled++);
    void queued.then(() => settled++);
    await jest.advanceTimersByTimeAsync(59);
    expect(settled).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(await stuck).toMatch(/did not acknowledge within 100 ms/);
    expect(settled).toBe(1);
    await jest.advanceTimersByTimeAsync(39);
    expect(settled).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(await queued).toMatch(/did not acknowledge within 100 ms/);
    expect(requests).toHaveLength(2); // the timed-out queued publish was never sent
  });
});
