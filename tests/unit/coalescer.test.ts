import { BatchCoalescer, type Batch } from '../../src/processing/coalescer';

const batch = (partition: number): Batch => ({ topic: 't', partition, records: [{ key: null, value: null, offset: String(partition) }] });

describe('BatchCoalescer', () => {
  it('hands batches submitted together to one piece of work, and later ones to the next', async () => {
    const groups: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const c = new BatchCoalescer(async (bs) => {
      groups.push(bs.map((b) => b.partition));
      if (groups.length === 1) await gate;
      return groups.length;
    });
    const first = [c.submit(batch(0)), c.submit(batch(1)), c.submit(batch(2))];
    await new Promise((r) => setImmediate(r));
    const later = [c.submit(batch(3)), c.submit(batch(4))];
    release();
    expect(await Promise.all(first)).toEqual([1, 1, 1]);
    expect(await Promise.all(later)).toEqual([2, 2]);
    expect(groups).toEqual([[0, 1, 2], [3, 4]]);
  });

  it('fails every batch of a group whose work fails, and goes on with the next group', async () => {
    let calls = 0;
    const c = new BatchCoalescer(async () => {
      if (++calls === 1) throw new Error('store down');
      return 'ok';
    });
    const failed = [c.submit(batch(0)), c.submit(batch(1))];
    await expect(Promise.all(failed)).rejects.toThrow('store down');
    await expect(failed[1]).rejects.toThrow('store down');
    await expect(c.submit(batch(2))).resolves.toBe('ok');
  });
});
