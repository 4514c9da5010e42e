import { Field, Float, Int, ObjectType } from 'type-graphql';
import { KeyCount } from '../common/pagination';

@ObjectType()
export class DashboardSnapshot {
  @Field(() => Date)
  at!: string;

  @Field(() => Int, { description: 'Distinct users in the last 5 minutes.' })
  activeUsers!: number;

  @Field(() => Float, { description: 'Over the last minute.' })
  eventsPerSecond!: number;

  @Field(() => [KeyCount], { description: 'Last 5 minutes.' })
  topPages!: KeyCount[];

  @Field(() => Float, { description: 'Purchasing users / active users, last 5 minutes.' })
  conversionRate!: number;

  @Field(() => Int)
  alertsLastHour!: number;

  @Field(() => Int, {
    nullable: true,
    description: 'Events recorded but not yet processed: activity-topic records the processor has not committed. Null when Kafka does not say.',
  })
  processingLag!: number | null;
}
