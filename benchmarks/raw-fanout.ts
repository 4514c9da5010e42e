// Reference for the fan-out scenario: the cost of the bare socket write. A `ws` server sends one
// pre-serialized graphql-ws `next` message to each of N connected clients, `rate` rounds a second
// for `seconds`, and prints its own CPU time per message sent. The clients run in a process of
// their own, as the gateway's subscribers do.
//   raw-fanout.ts server <port> <clients> <rate> <seconds>
//   raw-fanout.ts clients <port> <count>
import WebSocket, { WebSocketServer } from 'ws';

const [mode, portArg, a, b, c] = process.argv.slice(2) as [string, string, string, string?, string?];
const port = Number(portArg);

if (mode === 'server') {
  const expected = Number(a);
  const rate = Number(b);
  const seconds = Number(c);
  const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false });
  wss.on('listening', () => process.stdout.write('ready\n'));
  const payload = JSON.stringify({ data: { eventProcessed: { eventId: '6f1c2a52-8d5e-4a57-9f0e-2b8f1c7d9e10', type: 'PAGE_VIEW', pageUrl: '/p/1' } } });
  let started = false;
  wss.on('connection', () => {
    if (started || wss.clients.size < expected) return;
    started = true;
    const clients = [...wss.clients];
    const messages = clients.map((_, i) => Buffer.from(`{"id":"${i}","type":"next","payload":${payload}}`));
    const cpu0 = process.cpuUsage();
    let sent = 0;
    let rounds = 0;
    const timer = setInterval(() => {
      clients.forEach((ws, i) => ws.send(messages[i]!, { binary: false }));
      sent += clients.length;
      if (++rounds >= rate * seconds) {
        clearInterval(timer);
        const cpu = process.cpuUsage(cpu0);
        process.stdout.write(`${JSON.stringify({ sent, cpuMicrosPerMessage: (cpu.user + cpu.system) / sent })}\n`);
        setTimeout(() => process.exit(0), 200);
      }
    }, 1000 / rate);
  });
} else {
  const count = Number(a);
  let received = 0;
  const open = (): Promise<void> =>
    new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
      ws.on('open', () => resolve());
      ws.on('message', () => void received++);
      ws.on('error', () => resolve());
    });
  void (async () => {
    for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, open));
    process.stdout.write('connected\n');
  })();
  process.on('SIGTERM', () => {
    process.stdout.write(`${JSON.stringify({ received })}\n`);
    process.exit(0);
  });
}
