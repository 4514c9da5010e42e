import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Two consecutive free ports: a local broker's listener and its controller. */
export async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65000 && (await portFree(p + 1))) return p;
  }
  throw new Error('no free port pair');
}

/**
 * A broker of its own (scripts/kafka.mjs with KAFKA_LOCAL_PORT and KAFKA_LOCAL_HOME), for
 * tests that stop and restart Kafka without disturbing the shared one.
 */
export class SecondBroker {
  readonly home = mkdtempSync(join(tmpdir(), 'kafka-'));
  private constructor(readonly port: number) {}

  static async create(): Promise<SecondBroker> {
    return new SecondBroker(await freePortPair());
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, KAFKA_LOCAL_PORT: String(this.port), KAFKA_LOCAL_HOME: this.home };
  }

  private run(command: 'up' | 'down'): void {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'kafka.mjs'), command], { env: this.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`kafka ${command} failed:\n${r.stderr}`);
  }

  up(): void {
    this.run('up');
  }

  down(): void {
    this.run('down');
  }
}
