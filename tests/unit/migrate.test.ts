import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMigrations, splitStatements } from '../../src/store/migrate';
import { projectRoot } from '../../src/paths';

describe('migrations', () => {
  it('splits a script at statement ends, keeping dollar-quoted bodies whole', () => {
    const sql = [
      '-- a comment',
      'CREATE TABLE a (id int);',
      '',
      'CREATE FUNCTION f() RETURNS int AS $$',
      'BEGIN',
      '  RETURN 1;',
      'END;',
      '$$ LANGUAGE plpgsql;',
      'CREATE INDEX i ON a (id);',
    ].join('\n');
    const statements = splitStatements(sql);
    expect(statements).toHaveLength(3);
    expect(statements[1]).toContain('RETURN 1;');
    expect(statements[1]!.endsWith('LANGUAGE plpgsql;')).toBe(true);
  });

  it('reads the project migrations in version order', () => {
    const ms = readMigrations(join(projectRoot(), 'migrations'));
    expect(ms.length).toBeGreaterThan(0);
    expect(ms.map((m) => m.version)).toEqual([...ms.map((m) => m.version)].sort((a, b) => a - b));
  });

  it('rejects a malformed file name and a repeated version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mig-'));
    writeFileSync(join(dir, '001_ok.sql'), 'SELECT 1;');
    writeFileSync(join(dir, 'oops.sql'), 'SELECT 1;');
    expect(() => readMigrations(dir)).toThrow(/oops\.sql/);
    const dir2 = mkdtempSync(join(tmpdir(), 'mig-'));
    writeFileSync(join(dir2, '001_a.sql'), 'SELECT 1;');
    writeFileSync(join(dir2, '0001_b.sql'), 'SELECT 1;');
    expect(() => readMigrations(dir2)).toThrow(/version 1 appears twice/);
  });
});
