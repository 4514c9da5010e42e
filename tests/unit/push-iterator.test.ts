import { PushIterator } from '../../src/streaming/push-iterator';
import { TypedPubSub } from '../../benchmarks/plain-pubsub';

describe('PushIterator', () => {
  it('delivers pushed values in order, to a waiting reader too', async () => {
    const it = new PushIterator<number>({ capacity: 10 });
    const waiting = it.next();
    it.push(1);
    it.push(2);
    await expect(waiting).resolves.toEqual({ value: 1, done: false });
    await expect(it.next()).resolves.toEqual({ value: 2, done: false });
  });

  it('ends with the overflow error once its buffer is full, after the buffered values', async () => {
    const it = new PushIterator<number>({ capacity: 2, onOverflow: (n) => new Error(`dropped ${n}`) });
    expect(it.push(1)).toBe(true);
    expect(it.push(2)).toBe(true);
    expect(it.push(3)).toBe(false);
    expect(it.push(4)).toBe(false);
    await expect(it.next()).resolves.toEqual({ value: 1, done: false });
    await expect(it.next()).resolves.toEqual({ value: 2, done: false });
    await expect(it.next()).rejects.toThrow('dropped 3');
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('ends after the values already buffered have been read', async () => {
    const onClose = jest.fn();
    const it = new PushIterator<number>({ capacity: 5, onClose });
    it.push(1);
    it.end();
    expect(it.push(2)).toBe(false);
    await expect(it.next()).resolves.toEqual({ value: 1, done: false });
    expect(onClose).not.toHaveBeenCalled();
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('runs onClose once when the reader returns', async () => {
    const onClose = jest.fn();
    const it = new PushIterator<number>({ capacity: 1, onClose });
    await it.return();
    await it.return();
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(it.push(1)).toBe(false);
  });
});

describe('TypedPubSub', () => {
  it('fans a publish out to every subscriber of the topic and forgets those that leave', async () => {
    const ps = new TypedPubSub<{ a: number; b: string }>();
    const s1 = ps.subscribe('a');
    const s2 = ps.subscribe('a');
    const other = ps.subscribe('b');
    ps.publish('a', 7);
    await expect(s1.next()).resolves.toEqual({ value: 7, done: false });
    await expect(s2.next()).resolves.toEqual({ value: 7, done: false });
    await s1.return();
    expect(ps.count('a')).toBe(1);
    await s2.return();
    expect(ps.count('a')).toBe(0);
    expect(ps.count('b')).toBe(1);
    await other.return();
  });
});
