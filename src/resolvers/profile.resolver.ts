import type { StoredEvent } from '../domain/processed-event';
import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { narrowedUser, reader } from '../auth/policies';
import type { GatewayContext } from '../context';
import { averageCompletion, emptyProfile, ranked, type ProfileState } from '../domain/profile';
import { badUserInput } from '../errors';
import { ActivityEvent } from '../schema/activity/activity-event.type';
import type { ActivityType } from '../domain/enums';
import { KeyCount, MAX_PAGE } from '../schema/common/pagination';
import { EventTypeCount, PreferenceScore, UserProfile } from '../schema/profile/user-profile.type';


@Resolver(() => UserProfile)
export class ProfileResolver {
  @Authorized()
  @Query(() => UserProfile, { description: "The caller's own profile (empty until its first event is processed)." })
  async me(@Ctx() ctx: GatewayContext): Promise<ProfileState> {
    const p = reader(ctx);
    return (await ctx.loaders.profile.load(p.userId)) ?? emptyProfile(p.userId);
  }

  @Authorized()
  @Query(() => UserProfile, { nullable: true, description: 'A profile; users may read only their own.' })
  async userProfile(@Arg('userId', () => ID) userId: string, @Ctx() ctx: GatewayContext): Promise<ProfileState | null> {
    const id = narrowedUser(reader(ctx), userId)!;
    return ctx.loaders.profile.load(id);
  }

  @FieldResolver(() => [EventTypeCount])
  eventCounts(@Root() p: ProfileState): Array<{ type: ActivityType; count: number }> {
    return ranked(p.eventCounts).map((k) => ({ type: k.key as ActivityType, count: k.count }));
  }

  @FieldResolver(() => [KeyCount])
  devices(@Root() p: ProfileState): KeyCount[] {
    return ranked(p.devices);
  }

  @FieldResolver(() => [KeyCount])
  countries(@Root() p: ProfileState): KeyCount[] {
    return ranked(p.countries);
  }

  @FieldResolver(() => [PreferenceScore], { description: 'Strongest categories / content first.' })
  preferences(@Root() p: ProfileState): PreferenceScore[] {
    return ranked(p.preferences)
      .filter((k) => k.count > 0)
      .map((k) => ({ key: k.key, score: Math.round(k.count * 1000) / 1000 }));
  }

  @FieldResolver(() => Float, { nullable: true, description: 'Playback: positionSeconds / durationSeconds, clamped to [0, 1], averaged.' })
  averageCompletionRate(@Root() p: ProfileState): number | null {
    return averageCompletion(p);
  }

  @FieldResolver(() => [ActivityEvent], { description: 'Newest first.' })
  async recentEvents(
    @Root() p: ProfileState,
    @Arg('first', () => Int, { defaultValue: 10, nullable: true }) first: number | null,
    @Ctx() ctx: GatewayContext,
  ): Promise<StoredEvent[]> {
    const n = first ?? 10;
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw badUserInput([{ path: 'first', message: `must be 1..${MAX_PAGE}` }]);
    return ctx.loaders.recentEvents.load({ userId: p.userId, first: n });
  }
}
