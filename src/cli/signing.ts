import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signToken } from '../auth/jwt';
import type { Role } from '../auth/principal';
import { projectRoot } from '../paths';

/** Kept in step with src/dev.ts, which creates it. */
export const DEV_SECRET_FILE = join('.data', 'dev-jwt-secret');

/**
 * Signs a token with the configured key: JWT_SECRET (HS256), else JWT_PRIVATE_KEY (RS256), else,
 * outside production, the development secret `npm run dev` created.
 * @throws when there is nothing to sign with.
 */
export function signWithConfiguredKey(sub: string, roles: Role[], ttlSeconds: number, env: NodeJS.ProcessEnv = process.env): string {
  const devFile = join(projectRoot(), DEV_SECRET_FILE);
  const privateKey = env.JWT_PRIVATE_KEY?.replace(/\\n/g, '\n');
  const secret =
    env.JWT_SECRET ||
    (env.NODE_ENV !== 'production' && !privateKey && existsSync(devFile) ? readFileSync(devFile, 'utf8').trim() : undefined);
  if (!secret && !privateKey) throw new Error('set JWT_SECRET (HS256) or JWT_PRIVATE_KEY (RS256) to sign with, or run npm run dev once');
  return signToken(
    { sub, roles, ttlSeconds, issuer: env.JWT_ISSUER || undefined, audience: env.JWT_AUDIENCE || undefined },
    secret ?? privateKey!,
    secret ? 'HS256' : 'RS256',
  );
}
