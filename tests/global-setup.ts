import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Integration tests need the local broker: start it unless one already answers (scripts/kafka.mjs up). */
export default function globalSetup(): void {
  const r = spawnSync(process.execPath, [join(__dirname, '..', 'scripts', 'kafka.mjs'), 'up'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the local Kafka broker did not start; see the lines above');
}
