// The figures of a run: rows (one measured figure each), ratios against their targets, the text
// printed at the end and the JSON file other tooling compares runs by. Scenario and figure names
// are keys there: a renamed figure is a new one to that tooling.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Row {
  scenario: string;
  figure: string;
  value: number;
  unit: string;
  note?: string;
}

export interface Ratio {
  name: string;
  value: number;
  /** `>= x` or `<= x`. */
  target: string;
  met: boolean;
}

/** Rounds to two decimals, as every figure is reported. */
export const r2 = (x: number) => Math.round(x * 100) / 100;

export class Report {
  readonly rows: Row[] = [];
  readonly ratios: Ratio[] = [];

  row(scenario: string, figure: string, value: number, unit: string, note?: string): void {
    this.rows.push({ scenario, figure, value: r2(value), unit, note });
  }

  /** A figure judged against a target: met when `value` is at least (`atLeast`) or at most `target`. */
  ratio(name: string, value: number, target: number, atLeast = true): void {
    this.ratios.push({ name, value: r2(value), target: `${atLeast ? '>=' : '<='} ${target}`, met: atLeast ? value >= target : value <= target });
  }

  /** The rows, then the targets, as printed after a run; `heading` is its first line. */
  text(heading: string): string {
    const width = Math.max(...this.rows.map((x) => x.figure.length));
    let out = `\n${heading}\n\n`;
    for (const x of this.rows) out += `${x.scenario.padEnd(18)} ${x.figure.padEnd(width)}  ${String(x.value).padStart(10)} ${x.unit}${x.note ? `   (${x.note})` : ''}\n`;
    out += '\ntargets\n';
    for (const x of this.ratios) out += `${x.met ? 'met    ' : 'MISSED '} ${x.name.padEnd(48)} ${String(x.value).padStart(10)}  (${x.target})\n`;
    return out;
  }

  /** Writes the run to `<dir>/<started>.json` and returns that file's path. */
  save(dir: string, started: Date, seconds: number): string {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ started, seconds, rows: this.rows, ratios: this.ratios }, null, 2));
    return file;
  }
}
