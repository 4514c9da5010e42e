// Several targets measured in alternating rounds (the second in reverse order), so that drift of
// the machine over a scenario falls on all of them alike rather than on whichever ran last.
import { addCpu, cpuReading, cpuSince, type CpuReading } from '../harness/accounting';
import type { LoadResult } from '../harness/load';

/** What the rounds of one target add up to. */
export interface Tally {
  /** Requests (or calls) completed. */
  requests: number;
  /** Seconds they took, summed over the rounds. */
  seconds: number;
  /** Latencies of each round, ms. */
  p50: number[];
  p99: number[];
  errors: number;
  /** CPU used while this target was measured, over all its rounds. */
  cpu?: CpuReading;
}

export const tally = (): Tally => ({ requests: 0, seconds: 0, p50: [], p99: [], errors: 0 });

/** Measures every part `rounds` times, `seconds / rounds` each (at least 1), every other round in reverse order. */
export async function alternatingRounds<T>(parts: readonly T[], seconds: number, measure: (part: T, seconds: number) => Promise<void>, rounds = 2): Promise<void> {
  const perRound = Math.max(1, Math.round(seconds / rounds));
  for (let round = 0; round < rounds; round++) {
    for (const part of round % 2 === 0 ? parts : [...parts].reverse()) await measure(part, perRound);
  }
}

/** Adds one load run to a tally, with the CPU used during it (the gateway's being `pid`'s). */
export async function tallyLoad(t: Tally, pid: number, run: () => Promise<LoadResult>): Promise<void> {
  const cpu0 = cpuReading(pid);
  const r = await run();
  t.cpu = addCpu(t.cpu, cpuSince(cpu0, pid));
  t.requests += r.requests;
  t.seconds += r.requests / Math.max(r.perSecond, 1e-9);
  t.p50.push(r.p50);
  t.p99.push(r.p99);
  t.errors += r.errors + r.non2xx;
}

export const perSecond = (t: Tally) => t.requests / t.seconds;

/** The mean of the rounds' medians, ms. */
export const meanP50 = (t: Tally) => Math.round(t.p50.reduce((a, b) => a + b, 0) / t.p50.length);
