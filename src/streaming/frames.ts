import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/**
 * Writing subscription messages as pre-framed buffers on the WebSocket's TCP socket.
 *
 * Fan-out is bounded by the kernel's cost of a socket write. `ws` writes a text message as two
 * buffers (its frame header, then the data: a `writev`), after concatenating the message; this
 * builds the frame header, the graphql-ws envelope and the payload into one buffer. In
 * alternating fan-out runs (10,000 subscribers) the gateway's CPU per delivered message fell by
 * about 10% from that alone; `SocketOutbox` then puts every message a socket gets in one turn
 * into one write.
 *
 * Only where it is the same on the wire: a server's frames are unmasked, and without
 * permessage-deflate `ws` writes every frame synchronously in call order (its sender queues only
 * while compressing or reading a Blob, and the gateway sends neither), so a frame written on the
 * TCP socket lands between `ws`'s own frames where it was written. `bufferedAmount` still counts
 * it (it reads the TCP socket's buffer). Elsewhere `rawSocketOf` is undefined and the message
 * goes through `socket.send`.
 */

/** The size of a text frame's header for a message of `length` bytes. */
const headLength = (length: number): number => (length < 126 ? 2 : length < 65_536 ? 4 : 10);

/** Writes one unfragmented text frame (FIN, opcode 1, no mask) of `parts` (`length` bytes) at `at`; returns where it ends. */
function writeFrame(into: Buffer, at: number, parts: readonly Buffer[], length: number): number {
  into[at] = 0x81;
  if (length < 126) {
    into[at + 1] = length;
    at += 2;
  } else if (length < 65_536) {
    into[at + 1] = 126;
    into.writeUInt16BE(length, at + 2);
    at += 4;
  } else {
    into[at + 1] = 127;
    into.writeBigUInt64BE(BigInt(length), at + 2);
    at += 10;
  }
  for (const p of parts) at += p.copy(into, at);
  return at;
}

const sizeOf = (parts: readonly Buffer[]): number => {
  let length = 0;
  for (const p of parts) length += p.length;
  return length;
};

/** Unfragmented text frames (FIN, opcode 1, no mask), one per message of `parts`, in order, in one buffer. */
export function textFrames(messages: ReadonlyArray<readonly Buffer[]>): Buffer {
  const lengths = messages.map(sizeOf);
  let bytes = 0;
  for (const length of lengths) bytes += headLength(length) + length;
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let i = 0; i < messages.length; i++) at = writeFrame(out, at, messages[i]!, lengths[i]!);
  return out;
}

/** The TCP socket under an uncompressed WebSocket (its extensions are settled in the handshake), or null. */
function tcpSocketOf(socket: WebSocket): Socket | null {
  if (socket.extensions !== '') return null;
  return (socket as unknown as { _socket?: Socket })._socket ?? null;
}

/** A socket's messages not written yet (each its parts), and their size framed. */
interface Queued {
  messages: Array<readonly Buffer[]>;
  bytes: number;
}

/**
 * Subscription messages leave once per socket and turn of the event loop.
 *
 * Every message the hub sends a socket during one turn (the events of one fetched batch, the
 * rows of one catch-up page, an alert together with events) is queued, and at the end of the
 * turn (`setImmediate`) each socket's queue goes out in one write. On the two-core development
 * machine the write itself is the cost of fan-out (the system call, and waking the reader, are
 * more than 80% of the gateway's CPU while it fans out), so four messages in one write cost about
 * what one costs alone (bare sockets: 4.3 to 4.9 µs a message against 12 to 17). Nothing waits
 * for a timer: a message sent alone in its turn leaves at the end of that turn.
 *
 * Order on the wire is call order for the hub's messages of a socket; before anything else is
 * written on a socket for a subscription (its error and `complete`, which graphql-ws writes
 * through `ws`), the hub calls `flush(socket)`. A compressed socket's messages go through
 * `ws` at once, uncoalesced, in call order.
 */
export class SocketOutbox {
  private readonly queued = new Map<WebSocket, Queued>();
  private readonly tcp = new WeakMap<WebSocket, Socket | null>();
  private scheduled: NodeJS.Immediate | undefined;

  /** `onWrites(n)`: n writes carrying subscription messages went to sockets. */
  constructor(private readonly onWrites?: (n: number) => void) {}

  /** Queues one text message made of `parts` for `socket`. */
  send(socket: WebSocket, parts: readonly Buffer[]): void {
    if (!this.rawSocketOf(socket)) {
      socket.send(Buffer.concat(parts), { binary: false });
      this.onWrites?.(1);
      return;
    }
    // Framed when written: one buffer a socket, one copy of each part.
    const length = sizeOf(parts);
    const framed = headLength(length) + length;
    const q = this.queued.get(socket);
    if (q) {
      q.messages.push(parts);
      q.bytes += framed;
    } else {
      this.queued.set(socket, { messages: [parts], bytes: framed });
    }
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.flushAll();
    });
  }

  /** Bytes queued for `socket` and not written yet. */
  bytesQueued(socket: WebSocket): number {
    return this.queued.get(socket)?.bytes ?? 0;
  }

  /** Writes what is queued for `socket` now. */
  flush(socket: WebSocket): void {
    const q = this.queued.get(socket);
    if (!q) return;
    this.queued.delete(socket);
    if (this.write(socket, q)) this.onWrites?.(1);
  }

  /** Writes every socket's queue, one write a socket. */
  flushAll(): void {
    if (this.queued.size === 0) return;
    let writes = 0;
    for (const [socket, q] of this.queued) if (this.write(socket, q)) writes++;
    this.queued.clear();
    if (writes > 0) this.onWrites?.(writes);
  }

  /** The TCP socket under an open, uncompressed WebSocket, or undefined. */
  private rawSocketOf(socket: WebSocket): Socket | undefined {
    let raw = this.tcp.get(socket);
    if (raw === undefined) this.tcp.set(socket, (raw = tcpSocketOf(socket)));
    return raw && raw.writable && !raw.destroyed ? raw : undefined;
  }

  private write(socket: WebSocket, q: Queued): boolean {
    const raw = this.rawSocketOf(socket);
    if (!raw || socket.readyState !== socket.OPEN) return false; // closing or closed meanwhile: nothing more may follow its close frame
    raw.write(textFrames(q.messages));
    return true;
  }
}
