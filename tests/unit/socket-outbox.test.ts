import type { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { SocketOutbox } from '../../src/streaming/frames';

const { Receiver } = require('ws') as { Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): void } };

/** What a WebSocket client reads from `bytes`, with `ws`'s own receiver. */
function decode(bytes: Buffer): string[] {
  const messages: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer) => messages.push(data.toString('utf8')));
  receiver.write(bytes);
  return messages;
}

/**
 * The parts of a WebSocket the outbox touches: its state, its extensions and its TCP socket, whose
 * writes are logged as copies (`bytes`) and as given (`view`). `writableLength` is what the TCP
 * socket still holds after a write (0: the kernel took it whole).
 */
function fakeSocket(extensions = '', writableLength = 5) {
  const log: Array<{ via: 'tcp' | 'ws'; bytes: Buffer; view?: Buffer }> = [];
  const socket = {
    OPEN: 1,
    readyState: 1,
    extensions,
    _socket: { writable: true, destroyed: false, writableLength, write: (b: Buffer) => void log.push({ via: 'tcp', bytes: Buffer.from(b), view: b }) },
    send: (b: Buffer | string) => void log.push({ via: 'ws', bytes: Buffer.from(b) }),
  };
  return { socket: socket as unknown as WebSocket, state: socket, log };
}

const empty = Buffer.alloc(0);
const brace = Buffer.from('}');
/** Queues `text` as one message, split in the outbox's three parts. */
const send = (outbox: SocketOutbox, socket: WebSocket, text: string) => outbox.send(outbox.outlet(socket), Buffer.from(text.slice(0, -1)), empty, brace);
const turn = () => new Promise((r) => setImmediate(r));

describe('SocketOutbox', () => {
  it("writes what a socket gets in one turn in one write, messages in order, and each socket's once", async () => {
    const writes: number[] = [];
    const outbox = new SocketOutbox((n) => writes.push(n));
    const a = fakeSocket();
    const b = fakeSocket();
    send(outbox, a.socket, '{"n":1}');
    send(outbox, b.socket, '{"n":"b"}');
    outbox.send(outbox.outlet(a.socket), Buffer.from('{"n":'), Buffer.from('2'), brace);
    send(outbox, a.socket, '{"n":3}');
    expect(a.log).toEqual([]);
    expect(outbox.outlet(a.socket).bytes).toBe(3 * (2 + 7));
    expect(outbox.outlet(a.socket).backlog).toBe(3 * (2 + 7) + 5); // and what the TCP socket holds
    await turn();
    expect(a.log).toHaveLength(1);
    expect(decode(a.log[0]!.bytes)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(decode(b.log[0]!.bytes)).toEqual(['{"n":"b"}']);
    expect(writes).toEqual([2]);
    expect(outbox.outlet(a.socket).bytes).toBe(0);

    // A later turn is a write of its own.
    send(outbox, a.socket, '{"n":4}');
    await turn();
    expect(a.log.map((w) => decode(w.bytes))).toEqual([['{"n":1}', '{"n":2}', '{"n":3}'], ['{"n":4}']]);
    expect(writes).toEqual([2, 1]);
  });

  it('flushes one socket at once, so what is written on it next comes after', async () => {
    const writes: number[] = [];
    const outbox = new SocketOutbox((n) => writes.push(n));
    const a = fakeSocket();
    const b = fakeSocket();
    send(outbox, a.socket, '{"n":1}');
    send(outbox, b.socket, '{"n":"b"}');
    outbox.flush(outbox.outlet(a.socket));
    a.socket.send('{"type":"complete"}');
    expect(a.log.map((w) => w.via)).toEqual(['tcp', 'ws']);
    expect(decode(a.log[0]!.bytes)).toEqual(['{"n":1}']);
    expect(b.log).toEqual([]);
    await turn();
    expect(a.log).toHaveLength(2); // nothing more for the socket flushed on its own
    expect(b.log).toHaveLength(1);
    expect(writes).toEqual([1, 1]);
  });

  it('frames every write in the same memory while the kernel takes each whole', async () => {
    const outbox = new SocketOutbox();
    const a = fakeSocket('', 0);
    const b = fakeSocket('', 0);
    send(outbox, a.socket, '{"n":"a"}');
    send(outbox, b.socket, '{"n":"b"}');
    await turn();
    expect(decode(a.log[0]!.bytes)).toEqual(['{"n":"a"}']);
    expect(decode(b.log[0]!.bytes)).toEqual(['{"n":"b"}']);
    expect(a.log[0]!.view!.buffer).toBe(b.log[0]!.view!.buffer);
  });

  it('never writes over bytes a socket still holds', async () => {
    const outbox = new SocketOutbox();
    const held = fakeSocket('', 7); // the kernel took only part of the write: the rest waits in the socket
    const next = fakeSocket('', 0);
    const after = fakeSocket('', 0);
    send(outbox, held.socket, '{"n":"held"}');
    send(outbox, next.socket, '{"n":"next, and longer"}');
    send(outbox, after.socket, '{"n":"after"}');
    await turn();
    // What the held socket was given is intact after the later writes.
    expect(decode(held.log[0]!.view!)).toEqual(['{"n":"held"}']);
    expect(held.log[0]!.view!.buffer).not.toBe(next.log[0]!.view!.buffer);
    expect(decode(next.log[0]!.bytes)).toEqual(['{"n":"next, and longer"}']);
    expect(decode(after.log[0]!.bytes)).toEqual(['{"n":"after"}']);
  });

  it('frames a queue larger than its buffer in one of its own', async () => {
    const outbox = new SocketOutbox();
    const a = fakeSocket('', 0);
    const big = `{"n":"${'x'.repeat(70_000)}"}`;
    send(outbox, a.socket, '{"n":1}');
    send(outbox, a.socket, big);
    await turn();
    expect(decode(a.log[0]!.bytes)).toEqual(['{"n":1}', big]);
  });

  it('keeps one outlet a socket, for every subscription of the socket', () => {
    const outbox = new SocketOutbox();
    const a = fakeSocket();
    expect(outbox.outlet(a.socket)).toBe(outbox.outlet(a.socket));
    expect(outbox.outlet(a.socket)).not.toBe(outbox.outlet(fakeSocket().socket));
  });

  it("sends through ws at once on a compressed socket, after what was queued", () => {
    const outbox = new SocketOutbox();
    const c = fakeSocket('permessage-deflate');
    send(outbox, c.socket, '{"n":1}');
    expect(c.log.map((w) => [w.via, w.bytes.toString()])).toEqual([['ws', '{"n":1}']]);
    expect(outbox.outlet(c.socket).bytes).toBe(0);
  });

  it('drops what was queued for a socket that began closing before the write, and counts no write', async () => {
    const writes: number[] = [];
    const outbox = new SocketOutbox((n) => writes.push(n));
    const a = fakeSocket();
    send(outbox, a.socket, '{"n":1}');
    a.state.readyState = 2; // CLOSING: its close frame is on the way, nothing may follow it
    await turn();
    expect(a.log).toEqual([]);
    expect(writes).toEqual([]);
    expect(outbox.outlet(a.socket).bytes).toBe(0);
  });
});
