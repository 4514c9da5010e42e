import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InputProblem } from './input-problem';
import { projectRoot } from '../paths';
import { parseInstant } from './instant';
import type { RecordInput } from './activity';
import { ajvProblem } from './event-schema';

const VALUE_SCHEMA_ID = 'https://activity-gateway.dev/schemas/activity-event.v1.json';

/** One REST event: the fields of GraphQL's RecordActivityInput, as JSON. */
const INPUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    eventId: { type: ['string', 'null'], format: 'uuid' },
    userId: { type: ['string', 'null'], minLength: 1, maxLength: 200 },
    type: { $ref: `${VALUE_SCHEMA_ID}#/properties/type` },
    occurredAt: { type: ['string', 'null'], format: 'date-time' },
    sentAt: { type: ['string', 'null'], format: 'date-time' },
    sessionId: { type: ['string', 'null'] },
    contentId: { type: ['string', 'null'] },
    pageUrl: { type: ['string', 'null'] },
    referrer: { type: ['string', 'null'] },
    properties: { type: ['object', 'null'] },
    device: { $ref: `${VALUE_SCHEMA_ID}#/definitions/device` },
    location: { $ref: `${VALUE_SCHEMA_ID}#/definitions/location` },
  },
} as const;

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv, ['date-time', 'uuid']);
    ajv.addSchema(JSON.parse(readFileSync(join(projectRoot(), 'schemas', 'activity-event.v1.json'), 'utf8')));
    compiled = ajv.compile(INPUT_SCHEMA);
  }
  return compiled;
}

/**
 * Parses one REST event body into a RecordInput, or lists what is wrong with it (paths under
 * `prefix`, `batch.3.` for the fourth of a batch). Per-type rules are checked later, on the
 * stamped value, exactly as for GraphQL.
 */
export function parseRestEvent(body: unknown, prefix: string): { input: RecordInput } | { problems: InputProblem[] } {
  const validate = validator();
  if (!validate(body)) {
    return { problems: (validate.errors ?? []).map((e) => ajvProblem(e, prefix)) };
  }
  const b = body as Record<string, unknown> & { type: RecordInput['type'] };
  const date = (v: unknown): Date | null => (typeof v === 'string' ? parseInstant(v) : null);
  return {
    input: {
      eventId: (b.eventId as string | null | undefined) ?? null,
      userId: (b.userId as string | null | undefined) ?? null,
      type: b.type,
      occurredAt: date(b.occurredAt),
      sentAt: date(b.sentAt),
      sessionId: (b.sessionId as string | null | undefined) ?? null,
      contentId: (b.contentId as string | null | undefined) ?? null,
      pageUrl: (b.pageUrl as string | null | undefined) ?? null,
      referrer: (b.referrer as string | null | undefined) ?? null,
      properties: (b.properties as Record<string, unknown> | null | undefined) ?? null,
      device: (b.device as RecordInput['device']) ?? null,
      location: (b.location as RecordInput['location']) ?? null,
    },
  };
}
