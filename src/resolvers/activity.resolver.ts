import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { GatewayContext } from '../context';
import type { RecordInput } from '../domain/activity';
import { unauthenticated } from '../errors';
import type { ResolverDeps } from '../schema/build';
import { ActivityReceipt } from '../schema/activity/activity-receipt.type';
import { RecordActivityInput } from '../schema/activity/record-activity.input';
import type { Receipt } from '../recording/recorder';

/** GraphQL input objects carry class prototypes; the domain takes plain values. */
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

@Resolver()
export class ActivityResolver {
  constructor(private readonly deps: ResolverDeps) {}

  @Authorized()
  @Mutation(() => ActivityReceipt, { description: 'Records one activity; answers once Kafka has it durably.' })
  async recordActivity(@Arg('input', () => RecordActivityInput) input: RecordActivityInput, @Ctx() ctx: GatewayContext): Promise<Receipt> {
    const [receipt] = await this.deps.recorder.record(ctx.principal ?? fail(ctx), ctx.client, [toRecordInput(input)], () => 'input.');
    return receipt!;
  }

  @Authorized()
  @Mutation(() => [ActivityReceipt], { description: '1..500 activities per call, all or nothing on validation.' })
  async recordActivities(
    @Arg('inputs', () => [RecordActivityInput]) inputs: RecordActivityInput[],
    @Ctx() ctx: GatewayContext,
  ): Promise<Receipt[]> {
    return this.deps.recorder.record(ctx.principal ?? fail(ctx), ctx.client, inputs.map(toRecordInput), (i) => `inputs.${i}.`);
  }
}

function fail(ctx: GatewayContext): never {
  throw ctx.authError ?? unauthenticated();
}
