const Long = require('kafkajs/src/utils/long') as { fromNumber(n: number): unknown };
const { Types } = require('kafkajs/src/protocol/message/compression') as { Types: Record<string, number> };

type Encoded = { buffer: Buffer };
// KafkaJS's own produce request and request framing, taken before the gateway's module replaces them.
const originalProduce = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: unknown) => { encode(): Promise<Encoded>; apiVersion: number };
const originalFrame = require('kafkajs/src/protocol/request') as (args: unknown) => Promise<Encoded>;
const { createKafka } = require('../../src/kafka/client') as typeof import('../../src/kafka/client');
const { createLogger } = require('../../src/logger') as typeof import('../../src/logger');
// A client is created, as in the gateway: that installs the replacement (no broker is contacted).
createKafka({ brokers: ['127.0.0.1:9092'], clientId: 'patch-test', logger: createLogger('silent') });
const wiredProduce = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: unknown) => { encode(): Promise<Encoded>; apiVersion: number };
const wiredV7 = require('kafkajs/src/protocol/requests/produce/v7/request') as (args: unknown) => { encode(): Promise<Encoded>; apiVersion: number };
const wiredFrame = require('kafkajs/src/protocol/request') as unknown;
const { encodeProduceRequest, encodeRequestFrame, directProduceRequestInstalled } = require('../../src/kafka/direct-produce-request') as typeof import('../../src/kafka/direct-produce-request');

const event = (i: number) => JSON.stringify({ eventId: `e-${i}`, userId: `u-${i % 3}`, type: 'PAGE_VIEW', pageUrl: '/p/ß?q=✓', properties: { n: i } });
const headers = { 'event-type': 'PAGE_VIEW', 'schema-version': '1', 'content-type': 'application/json' };
const messages = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ key: `u-${(from + i) % 3}`, value: event(from + i), headers }));

describe('direct produce request encoding', () => {
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(1_764_000_000_123));
  afterEach(() => jest.restoreAllMocks());

  const cases: Array<[string, Record<string, unknown>]> = [
    ['the gateway’s publish: idempotent, two topics, several partitions', {
      acks: -1, timeout: 30_000, producerId: Long.fromNumber(4321), producerEpoch: 3,
      topicData: [
        { topic: 'x.activities', partitions: [{ partition: 0, firstSequence: 17, messages: messages(40) }, { partition: 2, firstSequence: 0, messages: messages(3, 40) }] },
        { topic: 'x.dlq', partitions: [{ partition: 1, firstSequence: 5, messages: [{ key: null, value: Buffer.from([0, 255, 7]), headers: { 'dlq-reason': 'not JSON', multi: ['a', 'b'] } }] }] },
      ],
    }],
    ['defaults: not idempotent, no sequence, acks 1', { acks: 1, timeout: 5_000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: messages(2) }] }] }],
    ['transactional', { acks: -1, timeout: 30_000, transactionalId: 'tx-ü', producerId: Long.fromNumber(9), producerEpoch: 1, topicData: [{ topic: 't', partitions: [{ partition: 3, firstSequence: 2, messages: messages(5) }] }] }],
    ['messages with their own timestamps, out of order, one without', {
      acks: -1, timeout: 30_000,
      topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [
        { key: 'a', value: 'x', timestamp: 1_764_000_000_500 }, { key: 'b', value: 'y', timestamp: 1_763_999_999_000 }, { key: 'c', value: 'z' }, { key: 'd', value: 'w', timestamp: '1764000000200' },
      ] }] }],
    }],
    ['a partition without messages, a large value, no headers', { acks: -1, timeout: 30_000, topicData: [{ topic: 'ü-topic', partitions: [{ partition: 0, messages: [] }, { partition: 1, messages: [{ key: 'k', value: 'v'.repeat(100_000) }] }] }] }],
  ];

  it.each(cases)('writes the bytes KafkaJS 2.2.4 writes: %s', async (_, args) => {
    const expected = (await originalProduce(args).encode()).buffer;
    expect(Buffer.compare(encodeProduceRequest(args as never).buffer, expected)).toBe(0);
    expect(Buffer.compare((await wiredProduce(args).encode()).buffer, expected)).toBe(0);
  });

  it('leaves a compressed request to KafkaJS', async () => {
    const args = { acks: -1, timeout: 30_000, compression: Types.GZIP, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: messages(10) }] }] };
    const mine = (await wiredProduce(args).encode()).buffer;
    const theirs = (await originalProduce(args).encode()).buffer;
    expect(mine.length).toBe(theirs.length);
    expect(mine.length).toBeLessThan(encodeProduceRequest(args).buffer.length); // compressed, not the direct encoding
  });

  it('frames a request as KafkaJS does', async () => {
    for (const clientId of ['activity-gateway', 'ü-client', null]) {
      const request = { apiKey: 0, apiVersion: 7, encode: async () => encodeProduceRequest(cases[0]![1] as never) };
      const expected = (await originalFrame({ correlationId: 123_456, clientId, request })).buffer;
      expect(Buffer.compare((await encodeRequestFrame({ correlationId: 123_456, clientId, request })).buffer, expected)).toBe(0);
    }
    await expect(encodeRequestFrame({ correlationId: 1, clientId: 'c', request: { apiKey: 0, apiVersion: 7, encode: async () => ({}) as never } })).rejects.toThrow('value should be an instance of Encoder');
  });

  it('is what KafkaJS encodes produce requests (v3 to v7) and frames requests with once the gateway has created a Kafka client', async () => {
    expect(directProduceRequestInstalled()).toBe(true);
    expect(wiredFrame).toBe(encodeRequestFrame);
    const args = cases[0]![1];
    const v7 = wiredV7(args);
    expect(v7.apiVersion).toBe(7);
    expect(Buffer.compare((await v7.encode()).buffer, (await originalProduce(args).encode()).buffer)).toBe(0);
  });
});
