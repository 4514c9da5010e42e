import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { ActivityType, UserSegment } from '../../domain/enums';

@ObjectType()
export class EventTypeCount {
  @Field(() => ActivityType)
  type!: ActivityType;

  @Field(() => Int)
  count!: number;
}

@ObjectType()
export class PreferenceScore {
  @Field(() => String)
  key!: string;

  @Field(() => Float)
  score!: number;
}

/**
 * A user's profile. Map-shaped aggregates (eventCounts, devices, countries, preferences) and
 * the lists (recentEvents, fraudAlerts) are resolved by ProfileResolver.
 */
@ObjectType()
export class UserProfile {
  @Field(() => ID)
  userId!: string;

  @Field(() => Date, { nullable: true })
  firstSeenAt!: string | null;

  @Field(() => Date, { nullable: true })
  lastSeenAt!: string | null;

  @Field(() => Int)
  totalEvents!: number;

  @Field(() => Int)
  sessionCount!: number;

  @Field(() => Int)
  purchaseCount!: number;

  @Field(() => Float)
  totalSpent!: number;

  @Field(() => UserSegment)
  segment!: UserSegment;

  @Field(() => Float, { description: '0..1, from fraud alerts' })
  riskScore!: number;
}
