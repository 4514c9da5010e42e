import { BatchConsumer, type BatchConsumerOptions } from '../../src/kafka/batch-consumer';
import { createKafka, KafkaAdmin } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { BROKERS, Leftovers, uniqueName, waitFor } from '../support/harness';

const leftovers = new Leftovers();
afterAll(() => leftovers.dispose());

const kafka = createKafka({ brokers: [BROKERS], clientId: uniqueName('batch-consumer'), logger: createLogger('silent') });

/** A promise with its resolve and reject at hand. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open: () => void = () => undefined;
  let fail: (e: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

type Handle = BatchConsumerOptions['handle'];

/** A one-partition topic, a producer into it, a started consumer with `handle`, and the group's committed offset. */
async function setup(handle: Handle): Promise<{ send: (v: string) => Promise<void>; committed: () => Promise<number> }> {
  const admin = new KafkaAdmin(kafka);
  await admin.start();
  leftovers.add(() => admin.stop());
  const topic = uniqueName('deferred');
  await admin.ensureTopics([{ role: 'activity', name: topic, partitions: 1 }]);
  const producer = kafka.producer();
  await producer.connect();
  leftovers.add(() => producer.disconnect());
  const raw = kafka.admin();
  await raw.connect();
  leftovers.add(() => raw.disconnect());
  const groupId = uniqueName('deferred-group');
  const consumer = new BatchConsumer({
    kafka, groupId, topics: [topic], logger: createLogger('silent'), fromBeginning: true, maxWaitTimeInMs: 50, maxBytesPerPartition: 1 << 20, commitIntervalMs: 50, handle,
  });
  await consumer.start();
  leftovers.add(() => consumer.stop());
  return {
    send: async (v) => {
      await producer.send({ topic, messages: [{ key: 'k', value: v }] });
    },
    committed: async () => Number((await raw.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset),
  };
}

describe('a batch consumer with deferred work', () => {
  it('fetches and handles the next batch while a batch’s work is pending, and commits only after that work succeeded', async () => {
    const seen: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const { send, committed } = await setup(async (_t, _p, records) => {
      const values = records.map((r) => r.value!.toString());
      seen.push(...values);
      const g = gate();
      gates.set(values.join(','), g);
      return { settled: g.promise };
    });

    await send('a');
    await waitFor(() => (seen.includes('a') ? true : undefined), 20_000, 'a');
    await send('b');
    // b is handed over although a's work has not finished.
    await waitFor(() => (seen.includes('b') ? true : undefined), 20_000, 'b while a is pending');
    gates.get('b')!.open();
    expect(await committed()).toBe(-1); // b succeeded, but a, before it, has not
    gates.get('a')!.open();
    await waitFor(async () => ((await committed()) === 2 ? true : undefined), 10_000, 'offsets committed after a and b');
    expect(seen).toEqual(['a', 'b']);
  }, 60_000);

  it('goes back to a batch whose work failed, hands it and everything after it again, and never commits past it before', async () => {
    const seen: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const { send, committed } = await setup(async (_t, _p, records) => {
      const values = records.map((r) => r.value!.toString());
      seen.push(...values);
      const key = values.join(',');
      // The first attempt of each batch waits for the test; a repeat succeeds at once.
      if (gates.has(key) || seen.length > 3) return { settled: Promise.resolve() };
      const g = gate();
      gates.set(key, g);
      return { settled: g.promise };
    });

    await send('c');
    await waitFor(() => (seen.includes('c') ? true : undefined), 20_000, 'c');
    await send('d');
    await waitFor(() => (seen.includes('d') ? true : undefined), 20_000, 'd while c is pending');
    gates.get('d')!.open();
    expect(await committed()).toBe(-1); // d succeeded, but c, before it, has not
    gates.get('c')!.fail(new Error('publish failed'));
    await waitFor(() => (seen.length >= 4 ? true : undefined), 20_000, 'c and d again');
    expect(seen).toEqual(['c', 'd', 'c', 'd']);
    await waitFor(async () => ((await committed()) === 2 ? true : undefined), 10_000, 'offsets committed after the repeat');
  }, 60_000);

  it('backs off before handing a batch whose work keeps failing again, and commits once it succeeds', async () => {
    const attempts: number[] = [];
    const { send, committed } = await setup(async () => {
      attempts.push(Date.now());
      // The store is down for the first three attempts.
      return { settled: attempts.length <= 3 ? Promise.reject(new Error('store down')) : Promise.resolve() };
    });
    await send('e');
    await waitFor(async () => ((await committed()) === 1 ? true : undefined), 20_000, 'the batch handled after three failures');
    expect(attempts).toHaveLength(4);
    // 200, 400, 800 ms between the attempts (not a retry loop as fast as the broker answers).
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(350);
    expect(gaps[2]).toBeGreaterThanOrEqual(700);
  }, 60_000);
});
