// CPU and memory of the processes of a run and of the whole machine, read from /proc: everything
// runs on one machine, so every figure says what each part spent to produce it.
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { plus, since } from './readings';
import { sleep } from './wait';

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ
}

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** CPU seconds used so far by the broker (java) and by every PostgreSQL process, from /proc. */
export function serviceCpu(): { broker: number; postgres: number } {
  let broker = 0;
  let postgres = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm === 'java' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('kafka.Kafka')) broker += cpuSeconds(Number(entry));
      else if (comm === 'postgres' || comm.startsWith('postgres')) postgres += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return { broker, postgres };
}

/** CPU seconds the whole machine has been busy (all cores, everything but idle and iowait), from /proc/stat. */
export function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return (total - f[3]! - f[4]!) / 100;
}

/** How long a scenario waits at most for a quiet machine; the smoke test, whose figures are not judged, waits less. */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 30_000);

/**
 * Waits (at most `ms`) until the machine is quiet: under `cores` busy over half a second. What a
 * scenario leaves behind (the broker flushing and cleaning the logs of a large topic, PostgreSQL's
 * checkpoints and autovacuum) would otherwise fall on the next one. Returns the last reading.
 */
export async function settle(cores = 0.25, ms = SETTLE_MS): Promise<number> {
  const deadline = performance.now() + ms;
  for (;;) {
    const b0 = machineBusy();
    const t0 = performance.now();
    await sleep(500);
    const busy = (machineBusy() - b0) / ((performance.now() - t0) / 1000);
    if (busy < cores || performance.now() > deadline) return busy;
  }
}

export type CpuReading = { gateway: number; broker: number; postgres: number; machine: number };

/** A reading for cpuSince and cpuShare. */
export function cpuReading(gatewayPid: number): CpuReading {
  return { gateway: cpuSeconds(gatewayPid), ...serviceCpu(), machine: machineBusy() };
}

/** CPU used between a reading and now, per part (seconds). */
export function cpuSince(before: CpuReading, gatewayPid: number): CpuReading {
  return since(before, cpuReading(gatewayPid));
}

/** Sums of CPU deltas (for a figure measured in several rounds). */
export const addCpu: (a: CpuReading | undefined, b: CpuReading) => CpuReading = plus;

/** A CPU delta over `wallSeconds` as a note: cores used by each part. */
export function formatCpu(d: CpuReading, wallSeconds: number): string {
  const f = (x: number) => `${(x / wallSeconds).toFixed(2)}`;
  const rest = d.machine - d.gateway - d.broker - d.postgres;
  return `cores used over ${wallSeconds.toFixed(1)} s: gateway ${f(d.gateway)}, broker ${f(d.broker)}, PostgreSQL ${f(d.postgres)}, the rest ${f(Math.max(0, rest))}, machine ${f(d.machine)} of ${cpus().length}`;
}

/**
 * CPU of the gateway, the broker, PostgreSQL, the rest (load generators and anything
 * else on the machine) and the whole machine between a reading and now, as a note.
 */
export function cpuShare(before: CpuReading, wallSeconds: number, gatewayPid: number): string {
  return formatCpu(cpuSince(before, gatewayPid), wallSeconds);
}
