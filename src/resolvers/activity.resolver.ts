import type { GraphQLFieldResolver } from 'graphql';
import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { GatewayContext } from '../context';
import type { RecordInput } from '../domain/activity';
import { unauthenticated } from '../errors';
import type { ResolverDeps } from './deps';
import { ActivityReceipt } from '../schema/activity/activity-receipt.type';
import { RecordActivityInput } from '../schema/activity/record-activity.input';
import type { Receipt } from '../recording/recorder';

/** A `RecordActivityInput` as graphql-js coerced it, or as type-graphql's instance: the domain takes plain values. */
function toRecordInput(i: RecordActivityInput): RecordInput {
  return {
    eventId: i.eventId,
    userId: i.userId,
    type: i.type,
    occurredAt: i.occurredAt,
    sentAt: i.sentAt,
    sessionId: i.sessionId,
    contentId: i.contentId,
    pageUrl: i.pageUrl,
    referrer: i.referrer,
    properties: i.properties,
    device: i.device ? { ...i.device } : i.device,
    location: i.location ? { ...i.location } : i.location,
  };
}

/** `recordActivity`: one event, answered once Kafka has it. */
async function recordOne(deps: ResolverDeps, ctx: GatewayContext, input: RecordActivityInput): Promise<Receipt> {
  const [receipt] = await deps.recorder.record(ctx.principal ?? fail(ctx), ctx.client, [toRecordInput(input)], () => 'input.');
  return receipt!;
}

/** `recordActivities`: 1..500 events, all or nothing on validation. */
function recordMany(deps: ResolverDeps, ctx: GatewayContext, inputs: RecordActivityInput[]): Promise<Receipt[]> {
  return deps.recorder.record(ctx.principal ?? fail(ctx), ctx.client, inputs.map(toRecordInput), (i) => `inputs.${i}.`);
}

/**
 * Declares the recording mutations (their SDL, and what they resolve to when type-graphql runs
 * them). The executable schema resolves them with `directRecordingResolvers` instead.
 */
@Resolver()
export class ActivityResolver {
  constructor(private readonly deps: ResolverDeps) {}

  @Authorized()
  @Mutation(() => ActivityReceipt, { description: 'Records one activity; answers once Kafka has it durably.' })
  async recordActivity(@Arg('input', () => RecordActivityInput) input: RecordActivityInput, @Ctx() ctx: GatewayContext): Promise<Receipt> {
    return recordOne(this.deps, ctx, input);
  }

  @Authorized()
  @Mutation(() => [ActivityReceipt], { description: '1..500 activities per call, all or nothing on validation.' })
  async recordActivities(
    @Arg('inputs', () => [RecordActivityInput]) inputs: RecordActivityInput[],
    @Ctx() ctx: GatewayContext,
  ): Promise<Receipt[]> {
    return recordMany(this.deps, ctx, inputs);
  }
}

/**
 * The recording mutations' resolvers without type-graphql's pipeline: graphql-js has coerced the
 * arguments already, and type-graphql would convert every input object (and its device and
 * location) into a class instance only for `toRecordInput` to copy it back, about a ninth of
 * the gateway's time under `recordActivities` with 100 events a call. `@Authorized()` (any
 * valid token) is what `ctx.principal ?? fail(ctx)` checks, with the same errors.
 */
export function directRecordingResolvers(deps: ResolverDeps): Record<'recordActivity' | 'recordActivities', GraphQLFieldResolver<unknown, GatewayContext>> {
  return {
    recordActivity: (_root, args, ctx) => recordOne(deps, ctx, args.input as RecordActivityInput),
    recordActivities: (_root, args, ctx) => recordMany(deps, ctx, args.inputs as RecordActivityInput[]),
  };
}

function fail(ctx: GatewayContext): never {
  throw ctx.authError ?? unauthenticated();
}
