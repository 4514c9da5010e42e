import type { RunTopics } from '../harness/run-topics';
import type { Report } from '../report';

/** The command line's sizes, as every scenario reads them. */
export interface BenchOptions {
  /** Seconds of each measured run. */
  seconds: number;
  /** Seconds of warm-up before a measured run (not counted). */
  warmup: number;
  /** Subscribers of the fan-out scenario. */
  subscribers: number;
  /** Events the processing scenario consumes. */
  events: number;
  /** Events a second the end-to-end scenario sends. */
  rate: number;
}

/** What a scenario is given: the sizes, the report its figures go to, and the run's topic names. */
export interface Bench {
  options: BenchOptions;
  report: Report;
  topics: RunTopics;
}

/** Measures one thing and adds its rows and ratios to the report; a scenario that throws is reported as FAILED. */
export type Scenario = (bench: Bench) => Promise<void>;
