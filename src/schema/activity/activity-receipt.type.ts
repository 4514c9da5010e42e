import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Where an accepted event was durably written.' })
export class ActivityReceipt {
  @Field(() => ID)
  eventId!: string;

  @Field(() => Boolean, { description: 'True when this eventId had already been accepted.' })
  duplicate!: boolean;

  @Field(() => Date)
  receivedAt!: Date;

  @Field(() => String)
  topic!: string;

  @Field(() => Int)
  partition!: number;

  @Field(() => String, { description: 'Kafka offset of the durable write.' })
  offset!: string;
}
