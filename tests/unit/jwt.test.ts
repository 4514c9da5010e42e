import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { signToken, TokenVerifier } from '../../src/auth/jwt';
import { ClientError } from '../../src/errors';

const SECRET = 'a-test-secret-of-sufficient-length-0123456789';
const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

function rejection(verifier: TokenVerifier, header: string | undefined): string {
  try {
    verifier.verifyHeader(header);
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).extensions.code).toBe('UNAUTHENTICATED');
    return (err as ClientError).message;
  }
  throw new Error('expected the token to be rejected');
}

describe('TokenVerifier (HS256 pinned)', () => {
  let now = Date.now();
  const hs = new TokenVerifier({ algorithm: 'HS256', secret: SECRET, generated: false }, { now: () => now, clockToleranceSeconds: 5 });
  afterEach(() => {
    now = Date.now();
  });

  it('accepts a valid token and reads sub and roles (absent roles mean user)', () => {
    const p = hs.verifyHeader(`Bearer ${signToken({ sub: 'ana', roles: ['analyst'], ttlSeconds: 60 }, SECRET, 'HS256')}`);
    expect(p.userId).toBe('ana');
    expect([...p.roles]).toEqual(['analyst']);
    const plain = jwt.sign({ sub: 'bob' }, SECRET, { algorithm: 'HS256', expiresIn: 60 });
    expect([...hs.verify(plain).roles]).toEqual(['user']);
  });

  it('rejects a missing or malformed header', () => {
    expect(rejection(hs, undefined)).toMatch(/required/);
    expect(rejection(hs, 'Basic abc')).toMatch(/Bearer/);
    expect(rejection(hs, 'Bearer not-a-jwt')).toMatch(/Invalid token/);
  });

  it('rejects expired, not-yet-valid and exp-less tokens', () => {
    const expired = jwt.sign({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 60 }, SECRET, { algorithm: 'HS256' });
    expect(rejection(hs, `Bearer ${expired}`)).toMatch(/expired/);
    const future = jwt.sign({ sub: 'u' }, SECRET, { algorithm: 'HS256', expiresIn: 600, notBefore: 120 });
    expect(rejection(hs, `Bearer ${future}`)).toMatch(/not valid yet/);
    const forever = jwt.sign({ sub: 'u' }, SECRET, { algorithm: 'HS256' });
    expect(rejection(hs, `Bearer ${forever}`)).toMatch(/exp/);
  });

  it('rejects a wrong signature, alg none, and the other algorithm', () => {
    const wrong = jwt.sign({ sub: 'u' }, 'another-secret-entirely-0123456789', { algorithm: 'HS256', expiresIn: 60 });
    expect(rejection(hs, `Bearer ${wrong}`)).toMatch(/signature/);
    const none = jwt.sign({ sub: 'u', roles: ['admin'] }, '', { algorithm: 'none', expiresIn: 60 });
    rejection(hs, `Bearer ${none}`);
    const rs = jwt.sign({ sub: 'u' }, privateKey, { algorithm: 'RS256', expiresIn: 60 });
    expect(rejection(hs, `Bearer ${rs}`)).toMatch(/algorithm/);
  });

  it('rejects unknown roles and a bad sub', () => {
    const t = jwt.sign({ sub: 'u', roles: ['root'] }, SECRET, { algorithm: 'HS256', expiresIn: 60 });
    expect(rejection(hs, `Bearer ${t}`)).toMatch(/roles/);
    const noSub = jwt.sign({ roles: ['user'] }, SECRET, { algorithm: 'HS256', expiresIn: 60 });
    expect(rejection(hs, `Bearer ${noSub}`)).toMatch(/sub/);
  });

  it('verifies a token once and then serves it from the cache until it expires', () => {
    const spy = jest.spyOn(jwt, 'verify');
    const v = new TokenVerifier({ algorithm: 'HS256', secret: SECRET, generated: false }, { now: () => now, clockToleranceSeconds: 0 });
    const t = signToken({ sub: 'c', ttlSeconds: 30 }, SECRET, 'HS256');
    for (let i = 0; i < 100; i++) v.verify(t);
    expect(spy).toHaveBeenCalledTimes(1);
    now += 31_000;
    expect(rejection(v, `Bearer ${t}`)).toMatch(/expired/);
    spy.mockRestore();
  });

  it('enforces iss and aud when configured', () => {
    const v = new TokenVerifier({ algorithm: 'HS256', secret: SECRET, generated: false, issuer: 'https://id.example', audience: 'gateway' });
    const good = signToken({ sub: 'u', ttlSeconds: 60, issuer: 'https://id.example', audience: 'gateway' }, SECRET, 'HS256');
    expect(v.verify(good).userId).toBe('u');
    expect(rejection(v, `Bearer ${signToken({ sub: 'u', ttlSeconds: 60, issuer: 'evil', audience: 'gateway' }, SECRET, 'HS256')}`)).toMatch(/issuer/);
    expect(rejection(v, `Bearer ${signToken({ sub: 'u', ttlSeconds: 60, issuer: 'https://id.example', audience: 'x' }, SECRET, 'HS256')}`)).toMatch(/audience/);
    expect(rejection(v, `Bearer ${signToken({ sub: 'u', ttlSeconds: 60 }, SECRET, 'HS256')}`)).toMatch(/issuer|audience/);
  });
});

describe('TokenVerifier (RS256 pinned)', () => {
  const rs = new TokenVerifier({ algorithm: 'RS256', publicKey });

  it('accepts RS256 tokens signed with the private key', () => {
    expect(rs.verify(signToken({ sub: 'svc', roles: ['service'], ttlSeconds: 60 }, privateKey, 'RS256')).userId).toBe('svc');
  });

  it('rejects an HS256 token forged with the public key as the HMAC secret', () => {
    // The classic confusion attack: HMAC over the token with the (public) PEM as the secret.
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'u', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 60 })}`;
    const forged = `${body}.${createHmac('sha256', publicKey).update(body).digest('base64url')}`;
    expect(rejection(rs, `Bearer ${forged}`)).toMatch(/algorithm/);
  });
});
