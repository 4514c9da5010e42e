// Floor for the end-to-end scenario: the gateway's hops wired by hand with nothing else on them.
// It accepts the sender's POST /graphql, takes `variables.input` as the event, and does one
// KafkaJS `send` (acks -1) to an input topic. A consumer group reads that topic and stores each
// batch with one INSERT … SELECT unnest (ON CONFLICT DO NOTHING on the event id), then sends the
// stored events to an output topic. A second consumer group reads that topic and writes each
// event to the graphql-ws subscriber of its user. No GraphQL execution, validation, stamping or
// authorization on the way, so its latency is what the broker, PostgreSQL and the sockets cost
// on this machine. It serves `subscriptions_active` on /metrics, as the gateway does, for the
// bench to see when the subscribers are in.
//   bare-chain.ts <port> <database url> <topic prefix>
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Kafka, logLevel, type EachBatchPayload } from 'kafkajs';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const [portArg, dbUrl, prefix] = process.argv.slice(2) as [string, string, string];
const input = `${prefix}-in`;
const output = `${prefix}-out`;

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'bare-chain', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [input, output].map((topic) => ({ topic, numPartitions: 6, replicationFactor: 1 })) });
  await admin.disconnect();
  const db = new pg.Pool({ connectionString: dbUrl, max: 4 });
  await db.query('CREATE TABLE IF NOT EXISTS bare_chain_events (event_id uuid PRIMARY KEY, user_id text NOT NULL, event jsonb NOT NULL, stored_at timestamptz NOT NULL DEFAULT now())');
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();

  // graphql-ws subscribers by user: connection_init carries the token, whose subject picks the events.
  const watchers = new Map<string, Array<{ ws: WebSocket; id: string }>>();
  let active = 0;
  const http = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') return void res.end(`subscriptions_active ${active}\n`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables: { input: Record<string, unknown> & { userId: string } } };
      const event = { ...body.variables.input, eventId: randomUUID(), receivedAt: new Date().toISOString() };
      producer.send({ topic: input, acks: -1, messages: [{ key: event.userId, value: JSON.stringify(event) }] }).then(
        () => res.end(JSON.stringify({ data: { recordActivity: { eventId: event.eventId } } })),
        (err: Error) => res.end(JSON.stringify({ errors: [{ message: err.message }] })),
      );
    });
  });
  http.keepAliveTimeout = 65_000;
  const wss = new WebSocketServer({ server: http, path: '/graphql', perMessageDeflate: false });
  wss.on('connection', (ws) => {
    let user = '';
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type: string; id?: string; payload?: { authorization?: string } };
      if (m.type === 'connection_init') {
        user = String((jwt.decode(String(m.payload?.authorization ?? '').replace(/^Bearer /, '')) as jwt.JwtPayload | null)?.sub ?? '');
        ws.send('{"type":"connection_ack"}');
      } else if (m.type === 'subscribe') {
        const list = watchers.get(user) ?? [];
        list.push({ ws, id: m.id! });
        watchers.set(user, list);
        active++;
      }
    });
  });

  // A consumer group on one topic, and when it has its partitions: the chain is ready once both
  // groups have theirs, as the gateway is once its consumers run.
  const consume = async (group: string, topic: string, eachBatch: (p: EachBatchPayload) => Promise<void>) => {
    const consumer = kafka.consumer({ groupId: `${prefix}-${group}`, maxWaitTimeInMs: 200 });
    const joined = new Promise((r) => consumer.on(consumer.events.GROUP_JOIN, r));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ partitionsConsumedConcurrently: 6, eachBatch });
    return { consumer, joined };
  };

  const store = await consume('store', input, async ({ batch }) => {
    const ids: string[] = [];
    const users: string[] = [];
    const events: string[] = [];
    for (const m of batch.messages) {
      const e = JSON.parse(m.value!.toString()) as { eventId: string; userId: string };
      ids.push(e.eventId);
      users.push(e.userId);
      events.push(m.value!.toString());
    }
    await db.query(
      'INSERT INTO bare_chain_events (event_id, user_id, event) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) ON CONFLICT (event_id) DO NOTHING',
      [ids, users, events],
    );
    await producer.send({ topic: output, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
  });

  const deliver = await consume('deliver', output, async ({ batch }) => {
    for (const m of batch.messages) {
      const e = JSON.parse(m.value!.toString()) as { eventId: string; userId: string; properties?: unknown };
      const payload = JSON.stringify({ data: { eventProcessed: { eventId: e.eventId, properties: e.properties ?? null } } });
      for (const w of watchers.get(e.userId) ?? []) w.ws.send(`{"id":${JSON.stringify(w.id)},"type":"next","payload":${payload}}`);
    }
  });

  await Promise.all([store.joined, deliver.joined]);
  http.listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => {
    for (const ws of wss.clients) ws.terminate();
    http.close();
    void Promise.allSettled([store.consumer.disconnect(), deliver.consumer.disconnect(), producer.disconnect(), db.end()]).then(() => process.exit(0));
  });
}
void main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
