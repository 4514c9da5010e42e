import { Field, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../common/pagination';

@ObjectType({ description: 'A record that reached the dead-letter topic.' })
export class FailedEvent {
  @Field(() => String)
  topic!: string;

  @Field(() => Int)
  partition!: number;

  @Field(() => String)
  offset!: string;

  @Field(() => String, { nullable: true })
  key!: string | null;

  @Field(() => String)
  reason!: string;

  @Field(() => Date)
  failedAt!: string;

  @Field(() => String, { description: 'The original bytes as UTF-8 (replacement characters where invalid), at most 8 KiB.' })
  rawValue!: string;

  seq!: number;
}

@ObjectType()
export class FailedEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => FailedEvent)
  node!: FailedEvent;
}

@ObjectType()
export class FailedEventConnection {
  @Field(() => [FailedEventEdge])
  edges!: FailedEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}
