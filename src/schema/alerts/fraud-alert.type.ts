import { Field, ID, Int, ObjectType } from 'type-graphql';
import { FraudRule, Severity } from '../../domain/enums';
import { PageInfo } from '../common/pagination';
import { JSONObjectScalar } from '../common/scalars';

@ObjectType()
export class FraudAlert {
  @Field(() => ID, { description: 'Deterministic: the same evidence never raises two alerts.' })
  alertId!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => FraudRule)
  rule!: FraudRule;

  @Field(() => Severity)
  severity!: Severity;

  @Field(() => String)
  message!: string;

  @Field(() => Date)
  detectedAt!: string;

  @Field(() => [ID])
  eventIds!: string[];

  @Field(() => JSONObjectScalar)
  details!: Record<string, unknown>;
}

@ObjectType()
export class FraudAlertEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => FraudAlert)
  node!: FraudAlert;
}

@ObjectType()
export class FraudAlertConnection {
  @Field(() => [FraudAlertEdge])
  edges!: FraudAlertEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}
