import { placeRoles } from '../../src/roles/placement';
import type { ProcessRole } from '../../src/config';

const all = new Set<ProcessRole>(['gateway', 'processor', 'fraud']);
const pgUrl = 'postgres://u@h/db';

describe('placeRoles', () => {
  it('puts the processor and fraud roles in a thread beside the gateway, by default', () => {
    expect(placeRoles({ roles: all, roleThreads: true, databaseUrl: pgUrl })).toEqual({ main: ['gateway'], thread: ['processor', 'fraud'] });
    expect(placeRoles({ roles: new Set<ProcessRole>(['gateway', 'fraud']), roleThreads: true, databaseUrl: pgUrl })).toEqual({ main: ['gateway'], thread: ['fraud'] });
  });

  it('keeps every role on the main thread with ROLE_THREADS off, on the embedded store, or without the gateway', () => {
    expect(placeRoles({ roles: all, roleThreads: false, databaseUrl: pgUrl }).thread).toEqual([]);
    expect(placeRoles({ roles: all, roleThreads: true, databaseUrl: undefined }).thread).toEqual([]);
    expect(placeRoles({ roles: new Set<ProcessRole>(['processor', 'fraud']), roleThreads: true, databaseUrl: pgUrl })).toEqual({ main: ['processor', 'fraud'], thread: [] });
    expect(placeRoles({ roles: new Set<ProcessRole>(['gateway']), roleThreads: true, databaseUrl: pgUrl })).toEqual({ main: ['gateway'], thread: [] });
  });
});
