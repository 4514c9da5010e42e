// References for the fan-out scenario: the cost of the bare socket write. A server sends one
// pre-serialized graphql-ws `next` message to each of N connected clients, `rate` rounds a second
// for `seconds`, and prints its own CPU time per message sent. The clients run in a process of
// their own, as the gateway's subscribers do.
//   ws:  a `ws` server, `send` of the message to each WebSocket (what a bare WebSocket server does);
//   tcp: no WebSocket library at all: plain `net` sockets, one `write` of the message already
//        framed as a WebSocket text frame (the bytes the gateway writes) to each socket: the floor
//        of one write per message, Node's stream write and the kernel's.
//   raw-fanout.ts server <port> <clients> <rate> <seconds> [ws|tcp]
//   raw-fanout.ts clients <port> <count> [ws|tcp]
import { connect, createServer, type Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { textFrames } from '../src/streaming/frames';

const [mode, portArg, a, b, c, d] = process.argv.slice(2) as [string, string, string, string?, string?, string?];
const port = Number(portArg);
const payload = JSON.stringify({ data: { eventProcessed: { eventId: '6f1c2a52-8d5e-4a57-9f0e-2b8f1c7d9e10', type: 'PAGE_VIEW', pageUrl: '/p/1' } } });
const message = (i: number): Buffer => Buffer.from(`{"id":"${i}","type":"next","payload":${payload}}`);

/** Sends `send(i)` to every client `rate` times a second for `seconds`, then prints the CPU per message. */
function rounds(count: number, send: (i: number) => void, rate: number, seconds: number): void {
  const cpu0 = process.cpuUsage();
  let sent = 0;
  let done = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < count; i++) send(i);
    sent += count;
    if (++done >= rate * seconds) {
      clearInterval(timer);
      const cpu = process.cpuUsage(cpu0);
      process.stdout.write(`${JSON.stringify({ sent, cpuMicrosPerMessage: (cpu.user + cpu.system) / sent })}\n`);
      setTimeout(() => process.exit(0), 200);
    }
  }, 1000 / rate);
}

/** Opens `count` clients, 200 at a time; `open` resolves when one is connected (or failed). */
async function openAll(count: number, open: () => Promise<void>): Promise<void> {
  for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, open));
  process.stdout.write('connected\n');
}

if (mode === 'server') {
  const expected = Number(a);
  const rate = Number(b);
  const seconds = Number(c);
  if (d === 'tcp') {
    const sockets: Socket[] = [];
    const server = createServer({ noDelay: true }, (socket) => {
      socket.on('error', () => undefined);
      sockets.push(socket);
      if (sockets.length !== expected) return;
      const frames = sockets.map((_, i) => textFrames([message(i), Buffer.alloc(0), Buffer.alloc(0)]));
      rounds(expected, (i) => void sockets[i]!.write(frames[i]!), rate, seconds);
    });
    server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => process.stdout.write('ready\n'));
  } else {
    const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false });
    wss.on('listening', () => process.stdout.write('ready\n'));
    let started = false;
    wss.on('connection', () => {
      if (started || wss.clients.size < expected) return;
      started = true;
      const clients = [...wss.clients];
      const messages = clients.map((_, i) => message(i));
      rounds(expected, (i) => clients[i]!.send(messages[i]!, { binary: false }), rate, seconds);
    });
  }
} else {
  const count = Number(a);
  let received = 0;
  const open =
    b === 'tcp'
      ? (): Promise<void> =>
          new Promise((resolve) => {
            const socket = connect(port, '127.0.0.1', () => resolve());
            socket.on('data', (chunk) => void (received += chunk.length));
            socket.on('error', () => resolve());
          })
      : (): Promise<void> =>
          new Promise((resolve) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
            ws.on('open', () => resolve());
            ws.on('message', () => void received++);
            ws.on('error', () => resolve());
          });
  void openAll(count, open);
  process.on('SIGTERM', () => {
    process.stdout.write(`${JSON.stringify({ received })}\n`);
    process.exit(0);
  });
}
