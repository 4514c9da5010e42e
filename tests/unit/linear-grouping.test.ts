// KafkaJS's own grouping, taken before the gateway's module replaces it.
const original = require('kafkajs/src/producer/groupMessagesPerPartition') as (args: unknown) => Record<number, unknown[]>;
const { groupMessagesPerPartition, linearGroupingInstalled } = require('../../src/kafka/linear-grouping') as typeof import('../../src/kafka/linear-grouping');
const { installKafkaPatches } = require('../../src/kafka/patches') as typeof import('../../src/kafka/patches');

const metadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0 }));
const byKey = ({ message }: { message: { key: string } }) => Number(message.key.slice(1)) % 3;

describe('linear grouping of a produce call by partition', () => {
  it('groups as KafkaJS 2.2.4 does: every partition its messages in call order, the same object shape', () => {
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${(i * 7919) % 101}`, value: String(i) }));
    const args = { topic: 't', partitionMetadata: metadata, messages, partitioner: byKey };
    const ours = groupMessagesPerPartition(args);
    expect(ours).toEqual(original(args));
    expect(Object.keys(ours)).toEqual(Object.keys(original(args)));
    expect(Object.values(ours).flat()).toHaveLength(500);
  });

  it('gives nothing without partition metadata, as KafkaJS does', () => {
    const args = { topic: 't', partitionMetadata: [], messages: [{ key: 'k1' }], partitioner: byKey };
    expect(groupMessagesPerPartition(args)).toEqual({});
    expect(original(args)).toEqual({});
  });

  it('is what KafkaJS’s producer module resolves to once the changes are installed, and not before', () => {
    expect(linearGroupingInstalled()).toBe(false);
    expect(installKafkaPatches().find((o) => o.patch === 'linear-grouping')).toEqual({ patch: 'linear-grouping', status: 'installed' });
    expect(linearGroupingInstalled()).toBe(true);
    expect(require('kafkajs/src/producer/groupMessagesPerPartition')).toBe(groupMessagesPerPartition);
  });
});
