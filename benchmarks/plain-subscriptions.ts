// Reference for the fan-out scenario: a plain graphql-ws and type-graphql subscription server, the
// way such a server is usually wired: an in-process pub/sub topic, a `@Subscription` on it, and
// graphql-ws executing the subscription's selection for every subscriber and every event, then
// `ws` sending the result. It publishes `rate` events a second for `seconds` once `expected`
// subscriptions are active, waits until each has been delivered to every subscriber, and prints
// its own CPU time per delivered message.
//   plain-subscriptions.ts <port> <expected> <rate> <seconds>
import 'reflect-metadata';
import { createServer } from 'node:http';
import { useServer } from 'graphql-ws/use/ws';
import { buildSchema, Field, ID, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import { WebSocketServer } from 'ws';
import { TypedPubSub } from './plain-pubsub';

@ObjectType()
class PlainEvent {
  @Field(() => ID)
  eventId!: string;

  @Field()
  type!: string;

  @Field(() => String, { nullable: true })
  pageUrl!: string | null;
}

@Resolver()
class PlainResolver {
  @Query(() => String)
  ping(): string {
    return 'pong';
  }

  @Subscription(() => PlainEvent, { topics: 'EVENTS' })
  eventProcessed(@Root() event: PlainEvent): PlainEvent {
    return event;
  }
}

const [port, expected, rate, seconds] = process.argv.slice(2).map(Number) as [number, number, number, number];

async function main(): Promise<void> {
  const pubSub = new TypedPubSub<{ EVENTS: PlainEvent }>(10_000);
  const schema = await buildSchema({ resolvers: [PlainResolver], pubSub, validate: false });
  const http = createServer();
  const wss = new WebSocketServer({ server: http, path: '/graphql', perMessageDeflate: false });
  let subscribed = 0;
  let delivered = 0;
  let started = false;
  useServer(
    {
      schema,
      onSubscribe: () => {
        if (++subscribed === expected && !started) {
          started = true;
          setTimeout(run, 500);
        }
      },
      onNext: () => {
        delivered++;
      },
    },
    wss,
  );
  http.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));

  function run(): void {
    const cpu0 = process.cpuUsage();
    const rounds = rate * seconds;
    let published = 0;
    const timer = setInterval(() => {
      pubSub.publish('EVENTS', { eventId: `6f1c2a52-8d5e-4a57-9f0e-${String(published).padStart(12, '0')}`, type: 'PAGE_VIEW', pageUrl: `/p/${published % 50}` });
      if (++published < rounds) return;
      clearInterval(timer);
      const target = rounds * expected;
      const deadline = Date.now() + 120_000;
      const done = setInterval(() => {
        if (delivered < target && Date.now() < deadline) return;
        clearInterval(done);
        const cpu = process.cpuUsage(cpu0);
        process.stdout.write(`${JSON.stringify({ delivered, cpuMicrosPerMessage: (cpu.user + cpu.system) / Math.max(1, delivered) })}\n`);
        setTimeout(() => process.exit(0), 200);
      }, 20);
    }, 1000 / rate);
  }
}

void main();
