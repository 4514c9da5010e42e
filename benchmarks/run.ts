// npm run bench [-- --only a,b --seconds N --subscribers N --events N --rate N --profile]
// Runs the scenarios on the local stack (broker and PostgreSQL on this machine, the gateway and
// every load generator in processes of their own) and prints each figure with the ratios to
// references measured in the same run. Results also go to bench-results/<time>.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { settle } from './harness/accounting';
import { PG_URL, ROOT } from './harness/config';
import { RunTopics } from './harness/run-topics';
import { Report } from './report';
import { defaultDeployment } from './scenarios/default-deployment';
import { endToEnd } from './scenarios/end-to-end';
import { fanout } from './scenarios/fanout';
import { ingestBatch } from './scenarios/ingest-batch';
import { ingestSingle } from './scenarios/ingest-single';
import { processing } from './scenarios/processing';
import { queries } from './scenarios/queries';
import type { BenchOptions, Scenario } from './scenarios/scenario';

/** In the order they run; `--only` names them. */
const SCENARIOS: Record<string, Scenario> = {
  'ingest-single': ingestSingle,
  'ingest-batch': ingestBatch,
  processing,
  'end-to-end': endToEnd,
  fanout,
  queries,
  default: defaultDeployment,
};

function parseOptions(): { options: BenchOptions; only: Set<string> | null; profile: boolean } {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      subscribers: { type: 'string', default: '10000' },
      events: { type: 'string', default: '100000' },
      rate: { type: 'string', default: '500' },
      profile: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  return {
    options: { seconds, warmup: Math.max(1, Math.round(seconds / 5)), subscribers: Number(values.subscribers), events: Number(values.events), rate: Number(values.rate) },
    only: values.only ? new Set(values.only.split(',')) : null,
    profile: values.profile!,
  };
}

async function main(): Promise<void> {
  const { options, only, profile } = parseOptions();
  if (profile) {
    // Read by every gateway process the scenarios start (gatewayNodeArgs).
    process.env.BENCH_PROFILE_DIR = join(ROOT, 'bench-results', 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
    mkdirSync(process.env.BENCH_PROFILE_DIR, { recursive: true });
  }
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'kafka.mjs'), 'up'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the local broker did not start');
  const report = new Report();
  const topics = new RunTopics();
  const started = new Date();
  for (const [name, run] of Object.entries(SCENARIOS)) {
    if (only && !only.has(name)) continue;
    process.stderr.write(`== ${name} (machine at ${(await settle()).toFixed(2)} cores before it)\n`);
    try {
      await run({ options, report, topics });
    } catch (err) {
      report.row(name, 'FAILED', 0, '', (err as Error).message.split('\n')[0]);
    }
  }
  process.stdout.write(report.text(`bench ${started.toISOString()} (${options.seconds} s per run after ${options.warmup} s warm-up; ${PG_URL.replace(/\/\/.*@/, '//')})`));
  const file = report.save(join(ROOT, 'bench-results'), started, options.seconds);
  process.stdout.write(`\nresults: ${file}\n`);
  const deleted = await topics.deleteAll().catch((err: Error) => {
    process.stderr.write(`bench: could not delete this run's topics and groups: ${err.message}\n`);
    return { topics: 0, groups: 0 };
  });
  process.stderr.write(`bench: deleted ${deleted.topics} topics and ${deleted.groups} consumer groups of this run\n`);
}

void main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
