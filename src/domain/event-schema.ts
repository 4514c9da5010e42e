import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InputProblem } from './input-problem';
import { projectRoot } from '../paths';
import type { ActivityValue } from './activity';

const CONTENT_RULE = 'content, product and playback events';

/** Largest serialized `properties` object accepted, bytes. */
export const MAX_PROPERTIES_BYTES = 8 * 1024;

let compiled: ValidateFunction<ActivityValue> | undefined;

/** What `toISOString()` gives for a day of a month that every month has (1 to 28). */
const CANONICAL_EARLY_DAY = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;
const fullDateTime = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate;

/**
 * RFC 3339 date-time, as ajv-formats checks it, with a shortcut for the form the gateway stamps
 * itself (`toISOString()`, a day every month has): the full check, which reads the date and time
 * apart and checks the day against its month, was about a twentieth of batched ingest. Anything
 * else, the 29th to the 31st included, takes the full check.
 */
export function isDateTime(s: string): boolean {
  return CANONICAL_EARLY_DAY.test(s) || fullDateTime(s);
}

/** The compiled JSON Schema of an activity value (schemas/activity-event.v1.json), built once. */
function validator(): ValidateFunction<ActivityValue> {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv, ['uuid']);
    ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
    const schema = JSON.parse(readFileSync(join(projectRoot(), 'schemas', 'activity-event.v1.json'), 'utf8'));
    compiled = ajv.compile<ActivityValue>(schema);
  }
  return compiled;
}

function pathOf(e: ErrorObject): string {
  const base = e.instancePath.split('/').slice(1).join('.');
  const child =
    e.keyword === 'required'
      ? (e.params as { missingProperty: string }).missingProperty
      : e.keyword === 'additionalProperties'
        ? (e.params as { additionalProperty: string }).additionalProperty
        : '';
  return [base, child].filter((p) => p !== '').join('.');
}

function messageOf(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  // allOf/0 is the rule that content, product and playback events name their content.
  if (e.schemaPath.startsWith('#/allOf/0/then')) return `is required for ${CONTENT_RULE}`;
  switch (e.keyword) {
    case 'required':
      return e.schemaPath.startsWith('#/allOf/') ? 'is required for this event type' : 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters`;
    case 'minLength':
      return 'must not be empty';
    case 'minimum':
      return `must be a number >= ${String(p.limit)}`;
    case 'maximum':
      return `must be a number <= ${String(p.limit)}`;
    case 'maxProperties':
      return `must have at most ${String(p.limit)} keys`;
    case 'format':
      return p.format === 'uuid' ? 'must be a UUID' : 'must be an ISO-8601 date-time';
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).filter((v) => v !== null).join(', ')}`;
    case 'type':
      return `must be ${String(p.type).replace(',null', '').replace(',', ' or ')}`;
    case 'anyOf':
      return 'a PURCHASE needs a non-negative numeric price or amount';
    default:
      return e.message ?? 'is invalid';
  }
}

/** One ajv error as an input problem: its field path under `prefix` and a readable message. */
export function ajvProblem(e: ErrorObject, prefix: string): InputProblem {
  return { path: prefix + pathOf(e), message: messageOf(e) };
}

/**
 * Validates a value against the activity schema; returns every problem, each with its field
 * path under `prefix` (`inputs.3.` for the fourth input of a batch). An empty list means valid.
 */
export function validateActivityValue(value: unknown, prefix = ''): InputProblem[] {
  const validate = validator();
  const problems: InputProblem[] = [];
  if (!validate(value)) {
    for (const e of validate.errors ?? []) {
      // "if" says only that a "then" failed; the failing "then" keyword is reported on its own.
      if (e.keyword === 'if') continue;
      // The branches of anyOf are summarised by the anyOf error itself.
      if (e.schemaPath.includes('/anyOf/')) continue;
      problems.push(ajvProblem(e, prefix));
    }
  }
  if (value !== null && typeof value === 'object') nulProblems(value as Record<string, unknown>, prefix, problems);
  const props = (value as { properties?: unknown } | null)?.properties;
  if (props && typeof props === 'object') {
    const size = Buffer.byteLength(JSON.stringify(props));
    if (size > MAX_PROPERTIES_BYTES) {
      problems.push({ path: `${prefix}properties`, message: `must serialize to at most ${MAX_PROPERTIES_BYTES} bytes (got ${size})` });
    }
  }
  return dedupe(problems);
}

/**
 * PostgreSQL's text and jsonb cannot hold U+0000, nor (as UTF-8 or as a JSON `\u` escape) half of
 * a surrogate pair, which `JSON.parse` makes of an escape like `"\ud800"`: a value with either
 * could never be stored. Every string and key, at any depth, must be free of them.
 */
function nulProblems(value: Record<string, unknown> | unknown[], path: string, problems: InputProblem[], depth = 0): void {
  if (depth > 32) return; // the size limits bound real values long before this
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const v = (value as Record<string, unknown>)[k];
    if (k.includes('\u0000')) problems.push({ path: path.replace(/\.$/, ''), message: 'must not contain U+0000 in a key' });
    if (!isWellFormed(k)) problems.push({ path: path.replace(/\.$/, ''), message: 'must not contain a lone surrogate in a key' });
    if (typeof v === 'string') {
      if (v.includes('\u0000')) problems.push({ path: `${path}${k}`, message: 'must not contain U+0000' });
      if (!isWellFormed(v)) problems.push({ path: `${path}${k}`, message: 'must not contain a lone surrogate (U+D800 to U+DFFF)' });
    } else if (v !== null && typeof v === 'object') {
      nulProblems(v as Record<string, unknown>, `${path}${k}.`, problems, depth + 1);
    }
  }
}

/** `String.prototype.isWellFormed` (Node 20; not in the ES2022 typings): no unpaired surrogate. */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

function dedupe(problems: InputProblem[]): InputProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
