import type { ProfileState } from '../domain/profile';
import { PROFILE_COLUMNS, toProfile, type ProfileRow } from './rows';
import type { Queryable } from './store';

/** The stored profiles of these users, by userId (a user with none is left out), in one statement. */
export async function profilesByIds(db: Queryable, userIds: readonly string[]): Promise<Map<string, ProfileState>> {
  const r = await db.query<ProfileRow>(`SELECT ${PROFILE_COLUMNS} FROM user_profiles WHERE user_id = ANY($1::text[])`, [userIds]);
  return new Map(r.rows.map((row) => [row.user_id, toProfile(row)]));
}
