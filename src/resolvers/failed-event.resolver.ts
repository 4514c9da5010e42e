import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { GatewayContext } from '../context';
import { encodeCursor } from '../domain/cursor';
import { FailedEventConnection } from '../schema/failed/failed-event.type';
import type { ResolverDeps } from './deps';
import { failedPage } from '../store/failed-queries';
import { pageArgs } from './event.resolver';

@Resolver()
export class FailedEventResolver {
  constructor(private readonly deps: ResolverDeps) {}

  @Authorized('admin')
  @Query(() => FailedEventConnection, { description: 'Records that reached the dead-letter topic (admin only).' })
  async failedEvents(
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() _ctx: GatewayContext,
  ): Promise<FailedEventConnection> {
    const page = pageArgs(first ?? 50, after, 'fe');
    const { rows, total } = await failedPage(this.deps.store, page.first + 1, page.afterSeq);
    const nodes = rows.slice(0, page.first);
    const edges = nodes.map((n) => ({ cursor: encodeCursor('fe', n.seq), node: n }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > page.first, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: total,
    };
  }
}
