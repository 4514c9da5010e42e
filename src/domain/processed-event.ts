import { ActivityType } from './enums';
import type { ActivityValue } from './activity';

/** An event as stored: the value, its Kafka position, its place in processing order. */
export interface StoredEvent extends ActivityValue {
  seq: number;
  processedAt: string;
  partition: number;
  offset: string;
}

/**
 * A stored event with its predecessor in processing order (0 for the first): lets readers of the
 * processed topic, which spreads events over partitions, put them back in order and see gaps.
 */
export interface SequencedEvent extends StoredEvent {
  prevSeq: number;
}

/** A processed event on the processed topic: the sequenced event with its cursor. */
export interface ProcessedEventMessage extends SequencedEvent {
  cursor: string;
}

const TYPES: ReadonlySet<string> = new Set(Object.values(ActivityType));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isOptionalString = (v: unknown) => v === null || typeof v === 'string';
const isOptionalObject = (v: unknown) => v === null || isObject(v);

/**
 * Reads a processed-topic value. Only the processor writes that topic, so this checks the shape
 * its readers rely on (order, identity, type, times, the filterable fields), not the whole
 * activity schema the processor already enforced.
 * @returns the message, or why the value is not one.
 */
export function parseProcessedEvent(value: Buffer | string): { event: ProcessedEventMessage } | { reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { reason: `not JSON: ${(err as Error).message}` };
  }
  if (!isObject(parsed)) return { reason: 'not a JSON object' };
  const e = parsed;
  const problems: string[] = [];
  if (!isSeq(e.seq) || e.seq === 0) problems.push('seq');
  if (!isSeq(e.prevSeq) || (isSeq(e.seq) && e.prevSeq >= e.seq)) problems.push('prevSeq');
  for (const k of ['eventId', 'userId', 'cursor', 'occurredAt', 'receivedAt', 'processedAt', 'offset'] as const) if (!isString(e[k])) problems.push(k);
  if (!isString(e.type) || !TYPES.has(e.type)) problems.push('type');
  if (typeof e.partition !== 'number' || !Number.isInteger(e.partition)) problems.push('partition');
  if (!isObject(e.properties)) problems.push('properties');
  for (const k of ['sessionId', 'contentId', 'pageUrl', 'referrer', 'ipAddress', 'userAgent'] as const) if (!isOptionalString(e[k])) problems.push(k);
  for (const k of ['device', 'location'] as const) if (!isOptionalObject(e[k])) problems.push(k);
  if (problems.length > 0) return { reason: `not a processed event: bad or missing ${problems.join(', ')}` };
  return { event: e as unknown as ProcessedEventMessage };
}
