import { join } from 'node:path';
import { cycles, importGraph, type ModuleImports } from '../support/import-graph';

const SRC = join(__dirname, '..', '..', 'src');
const graph = importGraph(SRC);

/** What a module of the domain may import besides other modules of the domain: no framework, no I/O client. */
const DOMAIN_MAY_IMPORT = new Set(['ajv', 'ajv-formats', 'lru-cache', 'ua-parser-js', 'node:fs', 'node:path', 'node:crypto']);
const DOMAIN_MAY_USE_FILES = new Set(['src/paths.ts']);

describe('the import graph of src/', () => {
  it('is read whole (the walker sees the modules and their imports)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('src/app.ts')?.files).toContain('src/lifecycle.ts');
    expect(graph.get('src/schema/common/enums.ts')?.packages).toContain('type-graphql');
  });

  it('has no import cycle, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const looped = new Map<string, ModuleImports>([
      ['a.ts', { files: ['b.ts'], packages: [] }],
      ['b.ts', { files: ['c.ts'], packages: [] }],
      ['c.ts', { files: ['a.ts'], packages: [] }],
      ['d.ts', { files: ['a.ts'], packages: [] }],
    ]);
    expect(cycles(looped)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('keeps the domain pure: no framework (type-graphql, graphql, Apollo), no Kafka, pg or HTTP', () => {
    const domain = [...graph.entries()].filter(([file]) => file.startsWith('src/domain/'));
    expect(domain.length).toBeGreaterThan(5);
    const offences: string[] = [];
    for (const [file, imports] of domain) {
      for (const p of imports.packages) if (!DOMAIN_MAY_IMPORT.has(p)) offences.push(`${file} imports ${p}`);
      for (const f of imports.files) if (!f.startsWith('src/domain/') && !DOMAIN_MAY_USE_FILES.has(f)) offences.push(`${file} imports ${f}`);
    }
    expect(offences).toEqual([]);
  });
});
