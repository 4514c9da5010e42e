import { signToken } from '../../src/auth/jwt';
import { SECRET } from './config';

const token = (sub: string, roles: Array<'user' | 'analyst' | 'admin' | 'service'>) => signToken({ sub, roles, ttlSeconds: 6 * 3600 }, SECRET, 'HS256');

export const USER = token('bench-user', ['user']);
export const SERVICE = token('bench-service', ['service']);
export const ANALYST = token('bench-analyst', ['analyst']);
/** For subscribers.ts: subscriber i gets a user token of its own, so it sees only its own events. */
export const PER_USER = `per-user:${SECRET}`;

/** Headers of a JSON request, with a bearer token when one is given. */
export function jsonHeaders(bearer?: string): Record<string, string> {
  return { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) };
}
