import type { AuthChecker } from 'type-graphql';
import type { GatewayContext } from '../context';
import { forbidden, unauthenticated } from '../errors';
import type { Role } from './principal';

/**
 * The type-graphql authChecker: `@Authorized()` needs any valid token, `@Authorized('analyst')`
 * needs that role; admin passes every check. Failures are coded errors, never silent nulls.
 */
export const authChecker: AuthChecker<GatewayContext, Role> = ({ context }, roles) => {
  const principal = context.principal;
  if (!principal) throw context.authError ?? unauthenticated();
  if (roles.length === 0 || principal.roles.has('admin')) return true;
  if (roles.some((r) => principal.roles.has(r))) return true;
  throw forbidden(`This needs one of the roles: ${roles.join(', ')}.`);
};
