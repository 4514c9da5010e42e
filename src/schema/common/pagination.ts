import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType()
export class KeyCount {
  @Field(() => String)
  key!: string;

  @Field(() => Int)
  count!: number;
}

/** `first` bounds of every list (CONTRACT.md: 1..500). */
export const MAX_PAGE = 500;
