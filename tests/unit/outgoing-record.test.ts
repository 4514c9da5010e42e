import type { OutgoingRecord } from '../../src/domain/publishing';
import { recordBytes, splitIntoRequests } from '../../src/kafka/outgoing-record';

const record = (value: string): OutgoingRecord => ({ topic: 't', key: 'k', value, headers: { h: 'v' } });

describe('splitting a publish into produce requests', () => {
  it('keeps the records in order, each run within the byte and record limits', () => {
    const records = Array.from({ length: 10 }, (_, i) => record(String(i).repeat(100)));
    const size = recordBytes(records[0]!);
    const runs = splitIntoRequests(records, records.map((_, i) => i % 3), size * 3, 2);
    expect(runs.map((r) => r.records.length)).toEqual([2, 2, 2, 2, 2]);
    expect(runs.flatMap((r) => r.records)).toEqual(records);
    expect(runs.flatMap((r) => r.partitions)).toEqual(records.map((_, i) => i % 3));
    expect(runs.every((r) => r.bytes === size * r.records.length)).toBe(true);
    expect(splitIntoRequests(records, records.map(() => 0), size * 3, 100).map((r) => r.records.length)).toEqual([3, 3, 3, 1]);
  });

  it('gives a record larger than the byte limit a request of its own', () => {
    const runs = splitIntoRequests([record('a'), record('x'.repeat(5_000)), record('b')], [0, 0, 0], 1_000, 100);
    expect(runs.map((r) => r.records.map((x) => x.value.length))).toEqual([[1], [5_000], [1]]);
  });
});
