import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ActivityType, DeviceType } from '../../domain/enums';
import { PageInfo } from '../common/pagination';
import { JSONObjectScalar } from '../common/scalars';

@ObjectType()
export class Device {
  @Field(() => String, { nullable: true })
  id?: string | null;

  @Field(() => DeviceType, { nullable: true })
  type?: DeviceType | null;

  @Field(() => String, { nullable: true })
  os?: string | null;

  @Field(() => String, { nullable: true })
  browser?: string | null;
}

@ObjectType()
export class Location {
  @Field(() => String, { nullable: true })
  country?: string | null;

  @Field(() => String, { nullable: true })
  city?: string | null;

  @Field(() => String, { nullable: true })
  region?: string | null;

  @Field(() => String, { nullable: true })
  timezone?: string | null;
}

/**
 * A processed (stored) event. `cursor`, `ipAddress` and `user` are resolved by
 * EventResolver: the cursor from the event's place in processing order, the address only for
 * analysts and admins, the user through the request's DataLoader.
 */
@ObjectType()
export class ActivityEvent {
  @Field(() => ID)
  eventId!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => ActivityType)
  type!: ActivityType;

  @Field(() => Date)
  occurredAt!: string;

  @Field(() => Date)
  receivedAt!: string;

  @Field(() => Date)
  processedAt!: string;

  @Field(() => String, { nullable: true })
  sessionId!: string | null;

  @Field(() => String, { nullable: true })
  contentId!: string | null;

  @Field(() => String, { nullable: true })
  pageUrl!: string | null;

  @Field(() => String, { nullable: true })
  referrer!: string | null;

  @Field(() => JSONObjectScalar)
  properties!: Record<string, unknown>;

  @Field(() => Device, { nullable: true })
  device!: Device | null;

  @Field(() => Location, { nullable: true })
  location!: Location | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => Int)
  partition!: number;

  @Field(() => String)
  offset!: string;

  /** Processing order; not in the schema (cursors encode it). */
  seq!: number;
}

@ObjectType()
export class ActivityEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => ActivityEvent)
  node!: ActivityEvent;
}

@ObjectType()
export class ActivityEventConnection {
  @Field(() => [ActivityEventEdge])
  edges!: ActivityEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Counts every event matching the filter; run only when the field is asked for. */
  countAll!: () => Promise<number>;
}

@InputType()
export class EventFilter {
  @Field(() => ID, { nullable: true })
  userId?: string | null;

  @Field(() => [ActivityType], { nullable: true })
  types?: ActivityType[] | null;

  @Field(() => String, { nullable: true })
  sessionId?: string | null;

  @Field(() => String, { nullable: true })
  contentId?: string | null;

  @Field(() => Date, { nullable: true })
  since?: Date | null;

  @Field(() => Date, { nullable: true })
  until?: Date | null;
}

