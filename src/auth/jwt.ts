import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import { Lru } from '../domain/lru';
import type { JwtConfig } from '../config';
import { unauthenticated, type ClientError } from '../errors';
import { ROLES, type Principal, type Role } from './principal';

export interface VerifierOptions {
  /** Seconds of clock difference tolerated on `exp` and `nbf`. */
  clockToleranceSeconds?: number;
  /** Verified tokens kept in memory; the oldest is dropped past this. */
  cacheSize?: number;
  /** Clock, ms since the epoch (tests move it). */
  now?: () => number;
}

/** Parses verified claims into a Principal; rejects a token whose claims are not what we issue. */
export function principalFromClaims(payload: JwtPayload): Principal {
  if (typeof payload.sub !== 'string' || payload.sub.trim() === '' || payload.sub.length > 200) {
    throw unauthenticated('Token has no valid "sub" claim.');
  }
  if (typeof payload.exp !== 'number') throw unauthenticated('Token has no "exp" claim.');
  let roles: Role[] = ['user'];
  if (payload.roles !== undefined) {
    const raw: unknown = payload.roles;
    if (!Array.isArray(raw) || raw.some((r) => typeof r !== 'string' || !(ROLES as readonly string[]).includes(r))) {
      throw unauthenticated(`Token "roles" must be an array of ${ROLES.join(', ')}.`);
    }
    roles = raw as Role[];
  }
  return { userId: payload.sub, roles: new Set(roles), expiresAt: payload.exp * 1000 };
}

/**
 * Verifies bearer tokens with the configured, pinned algorithm (never the token's own `alg`).
 * A verified token is cached until it expires, since a signature check costs hundreds of
 * microseconds and clients send the same token on every request; rejected tokens are cached
 * briefly too, so a flood of one bad token costs no more than a good one.
 */
export class TokenVerifier {
  private readonly algorithms: Algorithm[];
  private readonly key: string;
  private readonly tolerance: number;
  private readonly now: () => number;
  private readonly verified: Lru<string, Principal>;
  private readonly rejected: Lru<string, { error: ClientError; until: number }>;

  constructor(
    private readonly config: JwtConfig,
    options: VerifierOptions = {},
  ) {
    this.algorithms = [config.algorithm];
    this.key = config.algorithm === 'HS256' ? config.secret : config.publicKey;
    this.tolerance = options.clockToleranceSeconds ?? 5;
    this.now = options.now ?? Date.now;
    this.verified = new Lru(options.cacheSize ?? 10_000);
    this.rejected = new Lru(options.cacheSize ?? 10_000);
  }

  /**
   * Verifies `Authorization` header contents (`Bearer <jwt>`) or a bare token.
   * @throws ClientError UNAUTHENTICATED for a missing, malformed, expired, not-yet-valid,
   *   wrongly signed or wrong-algorithm token.
   */
  verifyHeader(header: string | undefined): Principal {
    if (header === undefined || header.trim() === '') throw unauthenticated();
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
    if (!m) throw unauthenticated('Authorization must be "Bearer <token>".');
    return this.verify(m[1]!);
  }

  verify(token: string): Principal {
    const now = this.now();
    const hit = this.verified.get(token);
    if (hit) {
      if (now < hit.expiresAt + this.tolerance * 1000) return hit;
      this.verified.delete(token);
      throw unauthenticated('Token has expired.');
    }
    const bad = this.rejected.get(token);
    if (bad && now < bad.until) throw bad.error;

    try {
      const payload = jwt.verify(token, this.key, {
        algorithms: this.algorithms,
        clockTolerance: this.tolerance,
        clockTimestamp: Math.floor(now / 1000),
        ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
        ...(this.config.audience ? { audience: this.config.audience } : {}),
      });
      if (typeof payload === 'string') throw unauthenticated('Token payload must be a JSON object.');
      const principal = principalFromClaims(payload);
      this.verified.set(token, principal);
      return principal;
    } catch (err) {
      const error = err instanceof jwt.TokenExpiredError
        ? unauthenticated('Token has expired.')
        : err instanceof jwt.NotBeforeError
          ? unauthenticated('Token is not valid yet.')
          : err instanceof jwt.JsonWebTokenError
            ? unauthenticated(`Invalid token: ${err.message}.`)
            : (err as ClientError);
      // A not-yet-valid token may become valid: remember the rejection only briefly.
      this.rejected.set(token, { error, until: now + (err instanceof jwt.NotBeforeError ? 1_000 : 10_000) });
      throw error;
    }
  }
}

export interface SignOptions {
  sub: string;
  roles?: Role[];
  /** Lifetime in seconds. */
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
  notBefore?: number;
}

/** Signs a token with HS256 (a secret) or RS256 (a PEM private key). Used by `npm run token` and tests. */
export function signToken(options: SignOptions, key: string, algorithm: 'HS256' | 'RS256'): string {
  return jwt.sign({ roles: options.roles ?? ['user'] }, key, {
    algorithm,
    subject: options.sub,
    expiresIn: options.ttlSeconds,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
    ...(options.notBefore !== undefined ? { notBefore: options.notBefore } : {}),
  });
}
