import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFlags } from '../../benchmarks/harness/gateway';

const ROOT = join(__dirname, '..', '..');

describe('the Node flags the gateway ships with', () => {
  it('are the same for npm start, the container and every gateway the bench measures', () => {
    const flags = startFlags();
    // A larger young generation: fewer scavenges under ingest (see docs/performance.md, batched ingest).
    expect(flags).toContain('--max-semi-space-size=32');
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))![1]!;
    const argv = JSON.parse(cmd) as string[];
    expect(argv[0]).toBe('node');
    expect(argv.filter((a) => a.startsWith('--'))).toEqual(flags);
    expect(argv.at(-1)).toBe('dist/src/main.js');
  });
});
