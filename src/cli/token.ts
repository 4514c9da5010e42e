import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../auth/principal';
import { signWithConfiguredKey } from './signing';

const USAGE = 'usage: npm run token -- --sub ID [--roles user,analyst,admin,service] [--ttl 1h]';

/** Parses a lifetime like 90, 90s, 15m, 1h or 7d into seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!m) throw new Error(`--ttl "${text}" is not a duration like 90s, 15m, 1h or 7d`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(m[1]) * unit;
  if (seconds <= 0) throw new Error('--ttl must be positive');
  return seconds;
}

/**
 * Prints a token signed with the configured key: JWT_SECRET (HS256) or JWT_PRIVATE_KEY (RS256,
 * the private half of JWT_PUBLIC_KEY), with JWT_ISSUER and JWT_AUDIENCE when set.
 */
function main(): void {
  const { values } = parseArgs({
    options: { sub: { type: 'string' }, roles: { type: 'string', default: 'user' }, ttl: { type: 'string', default: '1h' } },
  });
  if (!values.sub) throw new Error(USAGE);
  const roles = values.roles!.split(',').map((r) => r.trim()).filter((r) => r !== '');
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new Error(`unknown role "${r}"; ${USAGE}`);
  process.stdout.write(`${signWithConfiguredKey(values.sub, roles as Role[], parseTtl(values.ttl!))}\n`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}
