import { Sequencer } from '../../src/streaming/sequencer';

type Item = { seq: number; prevSeq: number };
const item = (seq: number, prevSeq: number): Item => ({ seq, prevSeq });

function make(start = 0, store: Item[] = []) {
  const out: number[] = [];
  const fills: Array<[number, number]> = [];
  const s = new Sequencer<Item>({
    start,
    deliver: (i) => out.push(i.seq),
    fill: async (after, upTo) => {
      fills.push([after, upTo]);
      return store.filter((i) => i.seq > after && i.seq <= upTo);
    },
    gapMs: 5,
  });
  return { s, out, fills };
}

describe('Sequencer', () => {
  it('delivers in order what arrives in order, across gaps in the numbering', () => {
    const { s, out } = make();
    s.push(item(1, 0));
    s.push(item(4, 1)); // 2 and 3 were never stored (conflicts use up sequence values)
    s.push(item(5, 4));
    expect(out).toEqual([1, 4, 5]);
  });

  it('holds what arrives early and releases it when its predecessor comes', () => {
    const { s, out } = make(10);
    s.push(item(13, 12));
    s.push(item(12, 11));
    expect(out).toEqual([]);
    s.push(item(11, 10));
    expect(out).toEqual([11, 12, 13]);
    s.stop();
  });

  it('drops repeats and what lies before its start', () => {
    const { s, out } = make(10);
    s.push(item(9, 8));
    s.push(item(11, 10));
    s.push(item(11, 10));
    s.push(item(12, 11));
    s.push(item(11, 10));
    expect(out).toEqual([11, 12]);
  });

  it('fills a gap that stays open from the store, then goes on', async () => {
    const store = [item(21, 20), item(22, 21), item(23, 22)];
    const { s, out, fills } = make(20, store);
    s.push(item(23, 22));
    s.push(item(24, 23));
    expect(out).toEqual([]);
    const deadline = Date.now() + 2_000;
    while (out.length < 4 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(out).toEqual([21, 22, 23, 24]);
    expect(fills).toEqual([[20, 22]]);
    expect(s.position).toBe(24);
  });
});
