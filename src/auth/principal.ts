export type Role = 'user' | 'analyst' | 'admin' | 'service';
export const ROLES: readonly Role[] = ['user', 'analyst', 'admin', 'service'];

/** Who is calling: the verified claims of a token. */
export interface Principal {
  /** The token's `sub`: the user id. */
  userId: string;
  roles: ReadonlySet<Role>;
  /** When the token expires, ms since the epoch. */
  expiresAt: number;
}

/** Analysts and admins read everything. */
export const canReadAll = (p: Principal): boolean => p.roles.has('admin') || p.roles.has('analyst');
/** Services and admins record on behalf of any user. */
export const canRecordForOthers = (p: Principal): boolean => p.roles.has('admin') || p.roles.has('service');
/** Services record and read nothing else, unless they hold another role too. */
export const canRead = (p: Principal): boolean =>
  p.roles.has('user') || p.roles.has('analyst') || p.roles.has('admin');
