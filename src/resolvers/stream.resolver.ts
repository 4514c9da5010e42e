import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  Int,
  ID,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import { canReadAll } from '../auth/principal';
import { reader } from '../auth/policies';
import type { GatewayContext, SubscriptionHub } from '../context';
import { decodeCursor, encodeCursor } from '../domain/cursor';
import type { ProfileState } from '../domain/profile';
import { badUserInput, forbidden } from '../errors';
import { ActivityEvent, EventFilter } from '../schema/activity/activity-event.type';
import { FraudAlert, FraudAlertConnection } from '../schema/alerts/fraud-alert.type';
import type { ResolverDeps } from './deps';
import { Severity } from '../domain/enums';
import { MAX_PAGE } from '../schema/common/pagination';
import { DashboardSnapshot } from '../schema/dashboard/dashboard.type';
import { UserProfile } from '../schema/profile/user-profile.type';
import type { StoredAlert } from '../store/rows';
import { alertPage } from '../store/alert-queries';
import { dashboardAt, type DashboardData } from '../store/dashboard-queries';
import { SubscriptionEnd } from '../streaming/subscriber';
import { eventQuery, pageArgs } from './event.resolver';

/** Shortest dashboard interval: snapshots cost a store query each. */
export const MIN_DASHBOARD_SECONDS = 1;
export const MAX_DASHBOARD_SECONDS = 3600;

/** What a hub-driven subscription resolves to: the payload, or its end (a coded error). */
function payload<T>(root: T | SubscriptionEnd): T {
  if (root instanceof SubscriptionEnd) throw root.error;
  return root;
}

function hubOf(ctx: GatewayContext): SubscriptionHub {
  if (!ctx.hub) throw badUserInput([{ path: '', message: 'subscriptions are served over WebSocket (graphql-transport-ws)' }]);
  return ctx.hub;
}

/** Analysts and admins only: alerts and the dashboard. */
function analyst(ctx: GatewayContext): void {
  const p = reader(ctx);
  if (!canReadAll(p)) throw forbidden('Fraud alerts and the dashboard are for analysts and admins.');
}

@Resolver()
export class StreamResolver {
  constructor(private readonly deps: ResolverDeps) {}

  @Authorized()
  @Subscription(() => ActivityEvent, {
    description: 'Processed events as they happen; with `after`, the stored events after that cursor first, then live, no gap, no repeat.',
    subscribe: ({ args, context, info }: SubscribeResolverData<unknown, { filter?: EventFilter | null; after?: string | null }, GatewayContext>) => {
      const q = eventQuery(context, args.filter);
      let afterSeq: number | null = null;
      if (args.after !== undefined && args.after !== null) {
        afterSeq = decodeCursor('ev', args.after);
        if (afterSeq === null) throw badUserInput([{ path: 'after', message: 'is not a cursor of this list' }]);
      }
      return hubOf(context).subscribeEvents(context, info, q, afterSeq);
    },
  })
  eventProcessed(
    @Arg('filter', () => EventFilter, { nullable: true }) _filter: EventFilter | null,
    @Arg('after', () => String, { nullable: true }) _after: string | null,
    @Root() root: ActivityEvent | SubscriptionEnd,
  ): ActivityEvent {
    return payload(root);
  }

  @Authorized()
  @Subscription(() => FraudAlert, {
    description: 'Fraud alerts as they are raised (analysts and admins).',
    subscribe: ({ args, context, info }: SubscribeResolverData<unknown, { minSeverity?: Severity | null }, GatewayContext>) => {
      analyst(context);
      return hubOf(context).subscribeAlerts(context, info, args.minSeverity ?? Severity.LOW);
    },
  })
  fraudAlertRaised(
    @Arg('minSeverity', () => Severity, { nullable: true, defaultValue: Severity.LOW }) _minSeverity: Severity | null,
    @Root() root: FraudAlert | SubscriptionEnd,
  ): FraudAlert {
    return payload(root);
  }

  @Authorized()
  @Subscription(() => DashboardSnapshot, {
    description: `The dashboard now, then every intervalSeconds (${MIN_DASHBOARD_SECONDS}..${MAX_DASHBOARD_SECONDS}); computed once per interval per instance.`,
    subscribe: ({ args, context, info }: SubscribeResolverData<unknown, { intervalSeconds?: number | null }, GatewayContext>) => {
      analyst(context);
      const s = args.intervalSeconds ?? 10;
      if (!Number.isInteger(s) || s < MIN_DASHBOARD_SECONDS || s > MAX_DASHBOARD_SECONDS) {
        throw badUserInput([{ path: 'intervalSeconds', message: `must be ${MIN_DASHBOARD_SECONDS}..${MAX_DASHBOARD_SECONDS}` }]);
      }
      return hubOf(context).subscribeDashboard(context, info, s);
    },
  })
  dashboardUpdated(
    @Arg('intervalSeconds', () => Int, { nullable: true, defaultValue: 10 }) _intervalSeconds: number | null,
    @Root() root: DashboardData | SubscriptionEnd,
  ): DashboardData {
    return payload(root);
  }

  @Authorized()
  @Query(() => DashboardSnapshot, { description: 'The live dashboard now (analysts and admins).' })
  dashboard(@Ctx() ctx: GatewayContext): Promise<DashboardData> {
    analyst(ctx);
    return dashboardAt(this.deps.store, new Date(), this.deps.processingLag);
  }

  @Authorized()
  @Query(() => FraudAlertConnection, { description: 'Fraud alerts, newest first (analysts and admins).' })
  async fraudAlerts(
    @Arg('userId', () => ID, { nullable: true }) userId: string | null,
    @Arg('minSeverity', () => Severity, { nullable: true }) minSeverity: Severity | null,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GatewayContext,
  ): Promise<FraudAlertConnection> {
    analyst(ctx);
    const page = pageArgs(first ?? 50, after, 'fa');
    const q = { userId, minSeverity: minSeverity ?? Severity.LOW };
    const { rows, total } = await alertPage(this.deps.store, q, page.first + 1, page.afterSeq);
    const nodes = rows.slice(0, page.first);
    const edges = nodes.map((n) => ({ cursor: encodeCursor('fa', n.seq), node: n as FraudAlert }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > page.first, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount: total,
    };
  }
}

@Resolver(() => UserProfile)
export class ProfileAlertsResolver {
  @FieldResolver(() => [FraudAlert], { description: 'Newest first; analysts and admins only.' })
  fraudAlerts(
    @Root() p: ProfileState,
    @Arg('first', () => Int, { defaultValue: 10, nullable: true }) first: number | null,
    @Ctx() ctx: GatewayContext,
  ): Promise<StoredAlert[]> {
    analyst(ctx);
    const n = first ?? 10;
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw badUserInput([{ path: 'first', message: `must be 1..${MAX_PAGE}` }]);
    return ctx.loaders.recentAlerts.load({ userId: p.userId, first: n });
  }
}
