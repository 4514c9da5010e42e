import type { Consumer } from 'kafkajs';
import { ConsumerLag } from '../../src/kafka/consumer-lag';
import { ConsumerPositions } from '../../src/kafka/consumer-positions';
import { GroupOffsets, recordsBehind, type Committed, type LogRange } from '../../src/kafka/group-offsets';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';

const logger = createLogger('silent');

/** Just enough of a KafkaJS consumer to emit its instrumentation events by hand. */
function fakeConsumer(): { consumer: Consumer; emit: (event: string, payload?: unknown) => void } {
  const events = { GROUP_JOIN: 'consumer.group_join', FETCH: 'consumer.fetch', END_BATCH_PROCESS: 'consumer.end_batch_process', DISCONNECT: 'consumer.disconnect' };
  const listeners = new Map<string, Array<(e: { payload: unknown }) => void>>();
  const consumer = {
    events,
    on(event: string, listener: (e: { payload: unknown }) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      return () => undefined;
    },
  } as unknown as Consumer;
  return { consumer, emit: (event, payload) => listeners.get(event)?.forEach((l) => l({ payload })) };
}

/** Offsets as a broker would answer them, changed by the test between reads. */
class Offsets {
  ends = new Map<string, Map<number, LogRange>>();
  commits = new Map<string, Committed>();
  reads = 0;
  async logRanges(topic: string): Promise<Map<number, LogRange>> {
    this.reads++;
    const ranges = this.ends.get(topic);
    if (!ranges) throw new Error(`no topic ${topic}`);
    return new Map(ranges);
  }
  async committed(group: string, topic: string): Promise<Committed> {
    return new Map(this.commits.get(`${group}/${topic}`) ?? []);
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('recordsBehind', () => {
  it('counts from the position, from the log start when nothing is committed, and never below 0', () => {
    expect(recordsBehind(40, { low: 0, high: 100 })).toBe(60);
    expect(recordsBehind(-1, { low: 10, high: 100 })).toBe(90);
    expect(recordsBehind(5, { low: 10, high: 100 })).toBe(90);
    expect(recordsBehind(100, { low: 0, high: 100 })).toBe(0);
    expect(recordsBehind(120, { low: 0, high: 100 })).toBe(0);
  });
});

describe('ConsumerPositions', () => {
  it('starts a join at the live end read after its first fetch, then follows batches, and forgets on disconnect', async () => {
    const { consumer, emit } = fakeConsumer();
    const ends = new Map([[0, { low: 0, high: 7 }], [1, { low: 0, high: 3 }], [2, { low: 0, high: 9 }]]);
    const positions = new ConsumerPositions('g', consumer, async () => ends);
    emit(consumer.events.GROUP_JOIN, { memberAssignment: { t: [0, 1] } });
    expect(positions.positions()).toEqual([{ topic: 't', partition: 0, next: undefined }, { topic: 't', partition: 1, next: undefined }]);
    emit(consumer.events.FETCH, {});
    await flush();
    // Partition 2 is not this member's.
    expect(positions.positions()).toEqual([{ topic: 't', partition: 0, next: 7 }, { topic: 't', partition: 1, next: 3 }]);
    emit(consumer.events.END_BATCH_PROCESS, { topic: 't', partition: 0, lastOffset: '41' });
    expect(positions.positions()[0]).toEqual({ topic: 't', partition: 0, next: 42 });
    // Later fetches do not move a partition back to a log end.
    emit(consumer.events.FETCH, {});
    await flush();
    expect(positions.positions()[0]!.next).toBe(42);
    emit(consumer.events.DISCONNECT);
    expect(positions.positions()).toEqual([]);
    emit(consumer.events.GROUP_JOIN, { memberAssignment: { t: [2] } });
    emit(consumer.events.FETCH, {});
    await flush();
    expect(positions.positions()).toEqual([{ topic: 't', partition: 2, next: 9 }]);
  });
});

describe('ConsumerLag', () => {
  it('measures a group that commits against the log end now: a caught-up partition reads 0, a stuck one grows', async () => {
    const offsets = new Offsets();
    offsets.ends.set('a', new Map([[0, { low: 0, high: 50 }], [1, { low: 0, high: 20 }]]));
    offsets.commits.set('proc/a', new Map([[0, 10], [1, -1]]));
    const lag = new ConsumerLag(offsets, logger);
    lag.watchCommitted('proc', ['a']);
    expect(await lag.read()).toEqual([
      { group: 'proc', topic: 'a', partition: 0, lag: 40 },
      { group: 'proc', topic: 'a', partition: 1, lag: 20 },
    ]);
    expect(await lag.backlog('proc', 'a')).toBe(60);
    // Partition 0 caught up and gets nothing new; partition 1's consumer is stuck while records arrive.
    offsets.commits.set('proc/a', new Map([[0, 50], [1, -1]]));
    offsets.ends.set('a', new Map([[0, { low: 0, high: 50 }], [1, { low: 0, high: 35 }]]));
    expect((await lag.read()).map((l) => l.lag)).toEqual([0, 35]);
  });

  it('measures a consumer that commits nothing from its own position', async () => {
    const offsets = new Offsets();
    offsets.ends.set('p', new Map([[0, { low: 0, high: 5 }]]));
    const lag = new ConsumerLag(offsets, logger);
    const { consumer, emit } = fakeConsumer();
    const kafka = lag.watchPositions({ consumer: () => consumer } as never);
    kafka.consumer({ groupId: 'fan' });
    emit(consumer.events.GROUP_JOIN, { memberAssignment: { p: [0] } });
    expect(await lag.read()).toEqual([]);
    emit(consumer.events.FETCH, {});
    await flush();
    expect(await lag.read()).toEqual([{ group: 'fan', topic: 'p', partition: 0, lag: 0 }]);
    offsets.ends.set('p', new Map([[0, { low: 0, high: 25 }]]));
    expect(await lag.read()).toEqual([{ group: 'fan', topic: 'p', partition: 0, lag: 20 }]);
    emit(consumer.events.END_BATCH_PROCESS, { topic: 'p', partition: 0, lastOffset: '24' });
    expect(await lag.read()).toEqual([{ group: 'fan', topic: 'p', partition: 0, lag: 0 }]);
  });

  it('leaves out what the broker does not answer, and says the backlog is unknown', async () => {
    const lag = new ConsumerLag(new GroupOffsets(createKafka({ brokers: ['127.0.0.1:9092'], clientId: 'lag-test', logger })), logger);
    lag.watchCommitted('proc', ['a']);
    expect(await lag.read()).toEqual([]);
    expect(await lag.backlog('proc', 'a')).toBeNull();
  });
});
