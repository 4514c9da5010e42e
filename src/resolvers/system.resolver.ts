import { Arg, Authorized, Int, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { GatewayContext } from '../context';
import { badUserInput } from '../errors';
import { PushIterator } from '../streaming/push-iterator';

export const HEARTBEAT_MIN_MS = 100;
export const HEARTBEAT_MAX_MS = 60_000;

/** Ticks every `intervalMs` until the subscriber leaves; the timer is cleared on return. */
function heartbeat(intervalMs: number): AsyncIterable<Date> {
  const it: PushIterator<Date> = new PushIterator<Date>({ capacity: 2, onClose: () => clearInterval(timer) });
  const timer = setInterval(() => it.push(new Date()), intervalMs);
  timer.unref();
  it.push(new Date());
  return it;
}

/** Cheap authenticated round trips: for clients checking that the gateway answers them. */
@Resolver()
export class SystemResolver {
  @Authorized()
  @Query(() => Date, { description: 'The server clock: a cheap authenticated round trip.' })
  serverTime(): Date {
    return new Date();
  }

  @Authorized()
  @Subscription(() => Date, {
    description: 'The server clock, now and then every intervalMs (100..60000): tells a socket client it is live.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { intervalMs: number }, GatewayContext>) => {
      if (!context.principal) throw context.authError ?? new Error('unauthenticated');
      const ms = args.intervalMs as number;
      if (!Number.isInteger(ms) || ms < HEARTBEAT_MIN_MS || ms > HEARTBEAT_MAX_MS) {
        throw badUserInput([{ path: 'intervalMs', message: `must be ${HEARTBEAT_MIN_MS}..${HEARTBEAT_MAX_MS}` }]);
      }
      return heartbeat(ms);
    },
  })
  heartbeat(
    @Arg('intervalMs', () => Int, { defaultValue: 1000 }) _intervalMs: number,
    @Root() tick: Date,
  ): Date {
    return tick;
  }
}
