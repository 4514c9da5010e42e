import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** Integration tests need the local broker: start it unless one already answers (scripts/kafka.mjs up). */
export default function globalSetup(): void {
  // Every topic and group name of this run carries it (tests/support/harness.ts); the teardown deletes the run's topics.
  process.env.TEST_RUN_ID ??= `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const r = spawnSync(process.execPath, [join(__dirname, '..', 'scripts', 'kafka.mjs'), 'up'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the local Kafka broker did not start; see the lines above');
}
