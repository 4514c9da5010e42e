import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/**
 * Writing subscription messages as pre-framed buffers on the WebSocket's TCP socket.
 *
 * Fan-out is bounded by the kernel's cost of a socket write. `ws` writes a text message as two
 * buffers (its frame header, then the data: a `writev`), after concatenating the message; this
 * builds the frame header, the graphql-ws envelope and the payload into one buffer, and
 * `SocketOutbox` puts every message a socket gets in one turn into one write (the measurements
 * are in docs/performance.md, Fan-out).
 *
 * Only where it is the same on the wire: a server's frames are unmasked, and without
 * permessage-deflate `ws` writes every frame synchronously in call order (its sender queues only
 * while compressing or reading a Blob, and the gateway sends neither), so a frame written on the
 * TCP socket lands between `ws`'s own frames where it was written. `bufferedAmount` still counts
 * it (it reads the TCP socket's buffer). Elsewhere an `Outlet` has no TCP socket and the message
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
  putFrames(out, 0, parts);
  return out;
}

/** Writes the text frames of messages given as `parts`, three a message, at `at`; returns where they end. */
function putFrames(out: Buffer, at: number, parts: readonly Buffer[]): number {
  for (let i = 0; i < parts.length; i += 3) at = putFrame(out, at, parts[i]!, parts[i + 1]!, parts[i + 2]!);
  return at;
}

/** Writes the text frame of the message `head`, `body`, `tail` at `at`; returns where it ends. */
function putFrame(out: Buffer, at: number, head: Buffer, body: Buffer, tail: Buffer): number {
  at = writeHeader(out, at, head.length + body.length + tail.length);
  out.set(head, at);
  at += head.length;
  out.set(body, at);
  at += body.length;
  out.set(tail, at);
  return at + tail.length;
}

/**
 * The size of the buffer the outbox frames a socket's messages in. A write the kernel takes whole
 * leaves it free for the next: fresh memory for every write costs the kernel and the allocator
 * new pages, which shows in fan-out (docs/performance.md, Fan-out).
 */
const SCRATCH_BYTES = 64 * 1024;

/** The TCP socket under an uncompressed WebSocket (its extensions are settled in the handshake), or null. */
function tcpSocketOf(socket: WebSocket): Socket | null {
  if (socket.extensions !== '') return null;
  return (socket as unknown as { _socket?: Socket })._socket ?? null;
}

/**
 * One WebSocket's way out, made once per socket and kept by each of its subscriptions, so that a
 * message costs no lookup: the TCP socket its frames are written on (null where `ws` must frame
 * them), and the messages queued for it in this turn. A message is three parts in a row, `head`,
 * `body` and `tail` (the hub's are the subscription's envelope, the payload shared by every
 * subscriber of a selection, and the closing brace); the first queued is kept in fields of its
 * own, the usual case of one message a turn, any further ones in `more`.
 */
export class Outlet {
  head: Buffer | null = null;
  body: Buffer | null = null;
  tail: Buffer | null = null;
  /** The parts of the messages queued after the first, three a message. */
  more: Buffer[] | null = null;
  /** The size of the queued messages framed; 0 when nothing is queued. */
  bytes = 0;

  constructor(
    readonly socket: WebSocket,
    /** The TCP socket under the WebSocket, or null where `ws` frames the messages (compression). */
    readonly tcp: Socket | null,
  ) {}

  /** Bytes written and not yet taken by the kernel, plus those queued: what the reader is behind by. */
  get backlog(): number {
    return (this.tcp !== null ? this.tcp.writableLength : this.socket.bufferedAmount) + this.bytes;
  }

  /** Writes the queued messages' frames into `out` (at least `bytes` long), from its start. */
  frameInto(out: Buffer): void {
    const at = putFrame(out, 0, this.head!, this.body!, this.tail!);
    if (this.more !== null) putFrames(out, at, this.more);
  }

  clear(): void {
    this.head = this.body = this.tail = null;
    this.more = null;
    this.bytes = 0;
  }
}

/**
 * Subscription messages leave once per socket and turn of the event loop.
 *
 * Every message the hub sends a socket during one turn (the events of one fetched batch, the
 * rows of one catch-up page, an alert together with events) is queued, and at the end of the
 * turn (`setImmediate`) each socket's queue goes out in one write. The write itself is the cost
 * of fan-out (the system call, and waking the reader), so several messages in one write cost
 * little more than one alone. Nothing waits for a timer: a message sent alone in its turn leaves
 * at the end of that turn.
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
  /** Where writes are framed, reused while the kernel takes each write whole (see `write`). */
  private scratch: Buffer | undefined;
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
    if (outlet.tcp === null) {
      outlet.socket.send(Buffer.concat([head, body, tail]), { binary: false });
      this.onWrites?.(1);
      return;
    }
    const length = head.length + body.length + tail.length;
    if (outlet.bytes === 0) {
      this.pending.push(outlet);
      outlet.head = head;
      outlet.body = body;
      outlet.tail = tail;
    } else if (outlet.more === null) {
      outlet.more = [head, body, tail];
    } else {
      outlet.more.push(head, body, tail);
    }
    outlet.bytes += headLength(length) + length;
    this.scheduled ??= setImmediate(this.flushAllNow);
  }

  /** Writes what is queued for the outlet's socket now. */
  flush(outlet: Outlet): void {
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

  /** Writes the outlet's queue as one buffer of frames and empties it; false if nothing was written. */
  private write(outlet: Outlet): boolean {
    const bytes = outlet.bytes;
    if (bytes === 0) return false; // nothing queued, or flushed on its own since it was listed
    const tcp = outlet.tcp!;
    // Closing or closed meanwhile: nothing more may follow its close frame.
    const open = outlet.socket.readyState === 1 /* OPEN */ && tcp.writable;
    if (open) {
      if (bytes > SCRATCH_BYTES) {
        const out = Buffer.allocUnsafe(bytes);
        outlet.frameInto(out);
        tcp.write(out);
      } else {
        const scratch = (this.scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES));
        outlet.frameInto(scratch);
        tcp.write(scratch.subarray(0, bytes));
        // Still held by the socket (the kernel took less than all of it, or earlier writes wait):
        // those bytes must stay as they are, so the next write frames into a new buffer.
        if (tcp.writableLength > 0) this.scratch = undefined;
      }
    }
    outlet.clear();
    return open;
  }
}
