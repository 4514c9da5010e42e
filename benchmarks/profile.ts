// npm run bench:profile -- <file.cpuprofile | directory> [--top N] [--inclusive REGEX] [--window FROM,TO] [--callers REGEX]
// Summarizes V8 CPU profiles written by `npm run bench -- --profile`: where the busy time went,
// by area (a package, a source file, the runtime) and by function, self and inclusive.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface Node { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, inclusive: { type: 'string', default: ' src/' }, window: { type: 'string' }, callers: { type: 'string' } } });
const TOP = Number(values.top);
const INCLUSIVE = new RegExp(values.inclusive!);
// --window A,B: only samples between A and B seconds after the profile started (negative: before its end).
// --callers REGEX: the self time of functions matching REGEX (say `writev`), charged to the nearest
// caller in a package or project file, to see whose work a native or runtime function did.
const CALLERS = values.callers ? new RegExp(values.callers) : undefined;
const WINDOW = values.window?.split(',').map(Number) as [number, number] | undefined;

/** Where a frame belongs: a package under node_modules, a project file, Node itself, or V8. */
function area(f: CallFrame): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const nm = f.url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = f.url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (f.url.startsWith('node:')) return 'node:' + f.url.slice(5).split('/')[0];
  const src = f.url.indexOf('/dist/');
  return src >= 0 ? f.url.slice(src + 6) : basename(f.url);
}

/** A frame's file, short: the path inside its package, or inside the build. */
function file(f: CallFrame): string {
  const nm = f.url.lastIndexOf('node_modules/');
  if (nm >= 0) return f.url.slice(nm + 'node_modules/'.length);
  const src = f.url.indexOf('/dist/');
  return src >= 0 ? f.url.slice(src + 6) : f.url || area(f);
}

const label = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${file(f)}:${f.lineNumber + 1}`;

function summarize(file: string): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  const end = p.timeDeltas.reduce((a, b) => a + b, 0) / 1e6;
  const [from, to] = (WINDOW ?? [0, end]).map((x) => (x < 0 ? end + x : x)) as [number, number];
  let at = 0;
  for (let i = 0; i < p.samples.length; i++) {
    at += (p.timeDeltas[i] ?? 0) / 1e6;
    if (at < from || at > to) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }

  let total = 0;
  let idle = 0;
  const areas = new Map<string, number>();
  const fnSelf = new Map<string, number>();
  const fnIncl = new Map<string, number>();
  const callers = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const a = area(n.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + us);
    fnSelf.set(label(n.callFrame), (fnSelf.get(label(n.callFrame)) ?? 0) + us);
    if (CALLERS?.test(label(n.callFrame))) {
      let cur = parent.get(id);
      while (cur !== undefined && /^(\(|node:)/.test(area(byId.get(cur)!.callFrame))) cur = parent.get(cur);
      const l = cur === undefined ? '(no caller)' : label(byId.get(cur)!.callFrame);
      callers.set(l, (callers.get(l) ?? 0) + us);
    }
    // Inclusive: once per distinct function on the stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!.callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      fnIncl.set(l, (fnIncl.get(l) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number, filter: (k: string) => boolean = () => true) =>
    [...m].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `  ${pct(us)}  ${k}`).join('\n');
  process.stdout.write(
    `\n${basename(file)} (${from.toFixed(1)} s to ${to.toFixed(1)} s of ${end.toFixed(1)} s): ${(total / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle\n` +
      `by area (self):\n${list(areas, TOP)}\n` +
      `by function (self):\n${list(fnSelf, TOP)}\n` +
      `functions matching /${INCLUSIVE.source}/ (inclusive):\n${list(fnIncl, TOP, (k) => INCLUSIVE.test(k))}\n` +
      (CALLERS ? `self time of /${CALLERS.source}/ by nearest package or project caller:\n${list(callers, TOP)}\n` : ''),
  );
}

/** Every profile in a folder and its subfolders (one per gateway process, a file per thread). */
function profilesIn(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((f) => (statSync(join(path, f)).isDirectory() ? profilesIn(join(path, f)) : f.endsWith('.cpuprofile') ? [join(path, f)] : []));
}

for (const arg of positionals) for (const f of profilesIn(arg)) summarize(f);
