import { forbidden, unauthenticated } from '../errors';
import type { GatewayContext } from '../context';
import { canRead, canReadAll, type Principal } from './principal';

/** The caller, who must be allowed to read. @throws UNAUTHENTICATED or FORBIDDEN (service-only tokens read nothing). */
export function reader(ctx: GatewayContext): Principal {
  const p = ctx.principal;
  if (!p) throw ctx.authError ?? unauthenticated();
  if (!canRead(p)) throw forbidden('Service tokens record events; they read nothing.');
  return p;
}

/**
 * The user a read is narrowed to: analysts and admins read anyone (`requested`, or everyone
 * when absent); a user reads only itself, and asking for someone else is FORBIDDEN.
 */
export function narrowedUser(p: Principal, requested: string | null | undefined): string | null {
  if (canReadAll(p)) return requested ?? null;
  if (requested && requested !== p.userId) throw forbidden('A user may read only its own events and profile.');
  return p.userId;
}
