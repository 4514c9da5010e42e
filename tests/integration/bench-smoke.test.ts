import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Keeps `npm run bench` working: every scenario for a second, at toy sizes. Figures are not judged here. */
describe('the benchmark harness', () => {
  it('runs every scenario and reports figures for each', async () => {
    const build = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.bench.json')], { encoding: 'utf8' });
    expect(build.status).toBe(0);
    const out = await new Promise<string>((resolve) => {
      const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'benchmarks', 'run.ts'), '--seconds', '1', '--subscribers', '50', '--events', '3000', '--rate', '50'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        // The rest of the suite keeps the machine busy: waiting for it to go quiet only costs time here.
        env: { ...process.env, BENCH_SETTLE_MS: '2000' },
      });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.once('exit', () => resolve(text));
    });
    expect(out).not.toMatch(/FAILED/);
    const file = /results: (\S+\.json)/.exec(out)?.[1];
    expect(file).toBeDefined();
    const results = JSON.parse(readFileSync(file!, 'utf8')) as { rows: Array<{ scenario: string; figure: string; value: number; note?: string }>; ratios: unknown[] };
    const scenarios = new Set(results.rows.map((r) => r.scenario.split(' ')[0]));
    expect([...scenarios].sort()).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(results.rows.every((r) => Number.isFinite(r.value))).toBe(true);
    // Scenario 1's references on the gateway's own stack answered: (a) the no-op mutation and
    // (a2) recording without Kafka (partial gateways), (a0) the serverTime query.
    const references = results.rows.filter((r) => /^\(a[02]?\)/.test(r.figure));
    expect(references.map((r) => r.figure.slice(0, 4)).sort()).toEqual(['(a) ', '(a0)', '(a2)']);
    expect(references.every((r) => r.value > 0)).toBe(true);
    // Scenario 4's floor, the hand-wired chain of the same hops, delivered events to its subscribers.
    const floor = results.rows.find((r) => r.figure.startsWith('hand-wired chain of the same hops'));
    expect(Number(/(\d+) delivered/.exec(floor?.note ?? '')?.[1])).toBeGreaterThan(0);
    // Scenario 5 fanned out at both of its rates.
    const fanned = results.rows.filter((r) => r.figure.startsWith('delivered, '));
    expect(fanned).toHaveLength(2);
    expect(fanned.every((r) => r.value > 0)).toBe(true);
    // and measured its two references: the bare ws server and the plain TCP write floor.
    const references5 = results.rows.filter((r) => r.scenario.startsWith('5') && /^(bare ws server|plain TCP write)/.test(r.figure));
    expect(references5).toHaveLength(2);
    expect(references5.every((r) => r.value > 0)).toBe(true);
    // Scenario 7 measured npm start's deployment and the split one, single and batched, and the peer.
    const deployments = results.rows.filter((r) => r.scenario.startsWith('7'));
    expect(deployments).toHaveLength(5);
    expect(deployments.every((r) => r.value > 0)).toBe(true);
    expect(results.ratios.length).toBeGreaterThanOrEqual(16);
    // The harness waits for a quiet machine (settle, up to 30 s) before each scenario and each
    // fan-out phase and reference, so on a machine busy with other work the run takes several
    // times as long as on a quiet one.
  }, 900_000);
});
