import type { StoredEvent } from '../domain/processed-event';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { narrowedUser, reader } from '../auth/policies';
import { canReadAll } from '../auth/principal';
import type { GatewayContext } from '../context';
import { decodeCursor, encodeCursor } from '../domain/cursor';
import { emptyProfile, type ProfileState } from '../domain/profile';
import { badUserInput, forbidden } from '../errors';
import type { InputProblem } from '../domain/input-problem';
import { ActivityEvent, ActivityEventConnection, EventFilter } from '../schema/activity/activity-event.type';
import { MAX_PAGE } from '../schema/common/pagination';
import { UserProfile } from '../schema/profile/user-profile.type';
import type { ResolverDeps } from './deps';

import { countEvents, eventById, findEvents, type EventQuery } from '../store/event-queries';

/** Checks `first` and decodes `after`; every problem at once. */
export function pageArgs(first: number, after: string | null | undefined, kind: 'ev' | 'fe' | 'fa'): { first: number; afterSeq: number | null } {
  const problems: InputProblem[] = [];
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) problems.push({ path: 'first', message: `must be 1..${MAX_PAGE}` });
  let afterSeq: number | null = null;
  if (after !== null && after !== undefined) {
    afterSeq = decodeCursor(kind, after);
    if (afterSeq === null) problems.push({ path: 'after', message: 'is not a cursor of this list' });
  }
  if (problems.length > 0) throw badUserInput(problems);
  return { first, afterSeq };
}

/** The event query a caller may run: a user's filter is narrowed to itself. */
export function eventQuery(ctx: GatewayContext, filter: EventFilter | null | undefined): EventQuery {
  const p = reader(ctx);
  if (filter?.since && filter.until && filter.since.getTime() > filter.until.getTime()) {
    throw badUserInput([{ path: 'filter.since', message: 'must not be after filter.until' }]);
  }
  return {
    userId: narrowedUser(p, filter?.userId),
    types: filter?.types ?? null,
    sessionId: filter?.sessionId ?? null,
    contentId: filter?.contentId ?? null,
    since: filter?.since ?? null,
    until: filter?.until ?? null,
  };
}

@Resolver(() => ActivityEvent)
export class EventResolver {
  constructor(private readonly deps: ResolverDeps) {}

  @Authorized()
  @Query(() => ActivityEvent, { nullable: true, description: 'One processed event; a user may read only its own.' })
  async event(@Arg('eventId', () => ID) eventId: string, @Ctx() ctx: GatewayContext): Promise<StoredEvent | null> {
    const p = reader(ctx);
    const e = await eventById(this.deps.store, eventId);
    if (e && !canReadAll(p) && e.userId !== p.userId) throw forbidden('A user may read only its own events.');
    return e;
  }

  @Authorized()
  @Query(() => ActivityEventConnection, { description: 'Processed events in processing order; cursors resume after an event.' })
  async processedEvents(
    @Arg('filter', () => EventFilter, { nullable: true }) filter: EventFilter | null,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GatewayContext,
  ): Promise<ActivityEventConnection> {
    const q = eventQuery(ctx, filter);
    const page = pageArgs(first ?? 50, after, 'ev');
    const rows = await findEvents(this.deps.store, q, page.first + 1, page.afterSeq);
    const nodes = rows.slice(0, page.first);
    const conn = new ActivityEventConnection();
    conn.edges = nodes.map((n) => ({ cursor: encodeCursor('ev', n.seq), node: n as unknown as ActivityEvent }));
    conn.pageInfo = { hasNextPage: rows.length > page.first, endCursor: conn.edges.at(-1)?.cursor ?? null };
    conn.countAll = () => countEvents(this.deps.store, q);
    return conn;
  }

  @FieldResolver(() => String, { description: 'Opaque; resumes processedEvents and eventProcessed after this event.' })
  cursor(@Root() e: StoredEvent): string {
    return encodeCursor('ev', e.seq);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Visible to analysts and admins only; null for others.' })
  ipAddress(@Root() e: StoredEvent, @Ctx() ctx: GatewayContext): string | null {
    return ctx.principal && canReadAll(ctx.principal) ? e.ipAddress : null;
  }

  @FieldResolver(() => UserProfile, { description: 'Batched with DataLoader: one store round trip per request, whatever the page size.' })
  async user(@Root() e: StoredEvent, @Ctx() ctx: GatewayContext): Promise<ProfileState> {
    return (await ctx.loaders.profile.load(e.userId)) ?? emptyProfile(e.userId);
  }
}

@Resolver(() => ActivityEventConnection)
export class EventConnectionResolver {
  @FieldResolver(() => Int, { description: 'Events matching the filter, all pages together.' })
  totalCount(@Root() conn: ActivityEventConnection): Promise<number> {
    return conn.countAll();
  }
}
