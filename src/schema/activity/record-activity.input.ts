import { Field, ID, InputType } from 'type-graphql';
import { ActivityType, DeviceType } from '../../domain/enums';
import { JSONObjectScalar } from '../common/scalars';

@InputType()
export class DeviceInput {
  @Field(() => String, { nullable: true })
  id?: string | null;

  @Field(() => DeviceType, { nullable: true })
  type?: DeviceType | null;

  @Field(() => String, { nullable: true })
  os?: string | null;

  @Field(() => String, { nullable: true })
  browser?: string | null;
}

@InputType()
export class LocationInput {
  @Field(() => String, { nullable: true })
  country?: string | null;

  @Field(() => String, { nullable: true })
  city?: string | null;

  @Field(() => String, { nullable: true })
  region?: string | null;

  @Field(() => String, { nullable: true })
  timezone?: string | null;
}

@InputType({ description: 'One user activity to record.' })
export class RecordActivityInput {
  @Field(() => ID, { nullable: true, description: 'Optional client idempotency key (UUID): a retry with the same key is never recorded twice.' })
  eventId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only service (and admin) tokens may set it; otherwise the token subject is the user.' })
  userId?: string | null;

  @Field(() => ActivityType)
  type!: ActivityType;

  @Field(() => Date, { nullable: true, description: 'Client clock when it happened; default: receivedAt.' })
  occurredAt?: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Client clock when sent; with occurredAt it corrects client clock skew: stored occurredAt = receivedAt - (sentAt - occurredAt).',
  })
  sentAt?: Date | null;

  @Field(() => String, { nullable: true })
  sessionId?: string | null;

  @Field(() => String, { nullable: true, description: 'Required for content, product and playback events.' })
  contentId?: string | null;

  @Field(() => String, { nullable: true })
  pageUrl?: string | null;

  @Field(() => String, { nullable: true })
  referrer?: string | null;

  @Field(() => JSONObjectScalar, {
    nullable: true,
    description: 'Type-specific: price, amount, productId, query, rating (0..5), positionSeconds, durationSeconds, ...',
  })
  properties?: Record<string, unknown> | null;

  @Field(() => DeviceInput, { nullable: true, description: 'When absent, derived from the User-Agent header.' })
  device?: DeviceInput | null;

  @Field(() => LocationInput, { nullable: true })
  location?: LocationInput | null;
}
