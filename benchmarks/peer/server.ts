// Reference (c): the hand-wired peer of the earlier design this gateway replaces (Express, a
// jsonwebtoken.verify per request, one KafkaJS send per request), kept as a baseline.
import { randomUUID } from 'node:crypto';
import express from 'express';
import jwt from 'jsonwebtoken';
import { Kafka, logLevel } from 'kafkajs';

const TYPES = new Set(['PAGE_VIEW', 'CLICK', 'SEARCH', 'PURCHASE', 'LOGIN', 'LOGOUT', 'PRODUCT_VIEW']);

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'peer', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const topic = process.env.TOPIC!;
  const app = express();
  app.use(express.json());
  app.post('/events/generate', async (req, res) => {
    try {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const claims = jwt.verify(token, process.env.JWT_SECRET!, { algorithms: ['HS256'] }) as jwt.JwtPayload;
      const { eventType, payload } = req.body as { eventType?: string; payload?: unknown };
      const errors: string[] = [];
      if (!eventType || !TYPES.has(eventType)) errors.push('eventType must be one of the known types');
      if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload))) errors.push('payload must be an object');
      if (errors.length) return void res.status(400).json({ message: 'Invalid request payload', errors });
      const event = { eventId: randomUUID(), userId: claims.sub, eventType, timestamp: new Date().toISOString(), payload: payload ?? {} };
      await producer.send({ topic, acks: -1, messages: [{ key: String(claims.sub), value: JSON.stringify(event) }] });
      res.status(201).json({ eventId: event.eventId });
    } catch (err) {
      res.status(err instanceof jwt.JsonWebTokenError ? 401 : 500).json({ message: 'Failed to publish event' });
    }
  });
  const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
  server.keepAliveTimeout = 65_000;
  process.on('SIGTERM', () => server.close(() => void producer.disconnect().then(() => process.exit(0))));
}
void main();
