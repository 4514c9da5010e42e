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

/** Writes the header of an unfragmented text frame (FIN, opcode 1, no mask) of `length` bytes at `at`; returns where it ends. */
function writeHeader(into: Buffer, at: number, length: number): number {
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
  return at;
}

/** The size of the text frames of messages given as `parts`, three a message. */
export function framedSize(parts: readonly Buffer[]): number {
  let bytes = 0;
  for (let i = 0; i < parts.length; i += 3) {
    const length = parts[i]!.length + parts[i + 1]!.length + parts[i + 2]!.length;
    bytes += headLength(length) + length;
  }
  return bytes;
}

/**
 * Unfragmented text frames (FIN, opcode 1, no mask), in order, in one buffer: one a message, the
 * messages given as `parts`, three a message (head, body and tail in a row), `bytes` their size
 * framed.
 */
export function textFrames(parts: readonly Buffer[], bytes = framedSize(parts)): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let i = 0; i < parts.length; i += 3) {
    const head = parts[i]!;
    const body = parts[i + 1]!;
    const tail = parts[i + 2]!;
    at = writeHeader(out, at, head.length + body.length + tail.length);
    at += head.copy(out, at);
    at += body.copy(out, at);
    at += tail.copy(out, at);
  }
  return out;
}

/** The TCP socket under an uncompressed WebSocket (its extensions are settled in the handshake), or null. */
function tcpSocketOf(socket: WebSocket): Socket | null {
  if (socket.extensions !== '') return null;
  return (socket as unknown as { _socket?: Socket })._socket ?? null;
}

/**
 * One WebSocket's way out, made once per socket and kept by each of its subscriptions, so that a
 * message costs no lookup: the TCP socket its frames are written on (null where `ws` must frame
 * them), and the messages queued for it in this turn, each as three parts (a message is
 * `head`, `body`, `tail` in a row: the hub's are the subscription's envelope, the payload shared
 * by every subscriber of a selection, and the closing brace).
 */
export class Outlet {
  /** Parts of the messages queued this turn, three a message; empty when nothing is queued. */
  readonly parts: Buffer[] = [];
  /** Their size framed. */
  bytes = 0;

  constructor(
    readonly socket: WebSocket,
    private readonly tcp: Socket | null,
  ) {}

  /** Bytes written and not yet taken by the kernel, plus those queued: what the reader is behind by. */
  get backlog(): number {
    return (this.tcp ? this.tcp.writableLength : this.socket.bufferedAmount) + this.bytes;
  }

  /** The TCP socket, while frames may be written on it. */
  get raw(): Socket | null {
    const tcp = this.tcp;
    return tcp !== null && tcp.writable && !tcp.destroyed ? tcp : null;
  }
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
 * A message costs no lookup and no allocation but its frame: a socket's state is its `Outlet`,
 * kept by the subscriber, and the sockets with something queued are a list.
 *
 * Order on the wire is call order for the hub's messages of a socket; before anything else is
 * written on a socket for a subscription (its error and `complete`, which graphql-ws writes
 * through `ws`), the hub calls `flush`. A compressed socket's messages go through `ws` at once,
 * uncoalesced, in call order.
 */
export class SocketOutbox {
  private readonly outlets = new WeakMap<WebSocket, Outlet>();
  /** Outlets with messages queued, each once, in the order they got their first. */
  private pending: Outlet[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly flushAllNow = (): void => {
    this.scheduled = undefined;
    this.flushAll();
  };

  /** `onWrites(n)`: n writes carrying subscription messages went to sockets. */
  constructor(private readonly onWrites?: (n: number) => void) {}

  /** The socket's outlet (the same one for every subscription of the socket). */
  outlet(socket: WebSocket): Outlet {
    let o = this.outlets.get(socket);
    if (!o) this.outlets.set(socket, (o = new Outlet(socket, tcpSocketOf(socket))));
    return o;
  }

  /** Queues one text message, `head`, `body` and `tail` in a row, for the outlet's socket. */
  send(outlet: Outlet, head: Buffer, body: Buffer, tail: Buffer): void {
    if (outlet.raw === null) {
      outlet.socket.send(Buffer.concat([head, body, tail]), { binary: false });
      this.onWrites?.(1);
      return;
    }
    const parts = outlet.parts;
    if (parts.length === 0) this.pending.push(outlet);
    parts.push(head, body, tail);
    const length = head.length + body.length + tail.length;
    outlet.bytes += headLength(length) + length;
    this.scheduled ??= setImmediate(this.flushAllNow);
  }

  /** Bytes queued for `socket` and not written yet. */
  bytesQueued(socket: WebSocket): number {
    return this.outlets.get(socket)?.bytes ?? 0;
  }

  /** Writes what is queued for the outlet's socket now. */
  flush(outlet: Outlet): void {
    if (outlet.parts.length === 0) return;
    if (this.write(outlet)) this.onWrites?.(1);
  }

  /** Writes every socket's queue, one write a socket. */
  flushAll(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    let writes = 0;
    for (let i = 0; i < pending.length; i++) if (this.write(pending[i]!)) writes++;
    if (writes > 0) this.onWrites?.(writes);
  }

  /** Writes the outlet's queue as one buffer of frames and empties it; false if it could not be written. */
  private write(outlet: Outlet): boolean {
    const parts = outlet.parts;
    if (parts.length === 0) return false; // flushed on its own since it was listed
    const raw = outlet.raw;
    let written = false;
    // Closing or closed meanwhile: nothing more may follow its close frame.
    if (raw !== null && outlet.socket.readyState === 1 /* OPEN */) {
      raw.write(textFrames(parts, outlet.bytes));
      written = true;
    }
    parts.length = 0;
    outlet.bytes = 0;
    return written;
  }
}
