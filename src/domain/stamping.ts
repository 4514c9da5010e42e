import type { InputProblem } from './input-problem';
import { SCHEMA_VERSION, type ActivityValue, type RecordInput } from './activity';
import type { DeviceDetector } from './user-agent';

/** How far after receipt a (corrected) occurredAt may lie: client clocks are never that far ahead once corrected. */
export const MAX_FUTURE_MS = 60_000;

export interface StampContext {
  /** The user the event is recorded for (already authorized). */
  userId: string;
  eventId: string;
  receivedAt: Date;
  /** `receivedAt.toISOString()`, when the caller has it already (the events of one call share it). */
  receivedAtIso?: string;
  ipAddress: string | null;
  userAgent: string | null;
  devices: DeviceDetector;
}

/**
 * The occurredAt to store. With `sentAt`, the client's clock offset is removed:
 * occurredAt = receivedAt - (sentAt - occurredAt). Without occurredAt, it is receivedAt.
 */
export function correctedOccurredAt(input: Pick<RecordInput, 'occurredAt' | 'sentAt'>, receivedAt: Date): Date {
  if (!input.occurredAt) return receivedAt;
  if (!input.sentAt) return input.occurredAt;
  return new Date(receivedAt.getTime() - (input.sentAt.getTime() - input.occurredAt.getTime()));
}

const trimOrNull = (s: string | null | undefined): string | null => (s === undefined || s === null ? null : s);

/**
 * Turns a client's input into the activity value published to Kafka: ids, receipt time,
 * corrected occurrence time, client address and agent, and a device derived from the agent
 * when the client sent none. Returns the problems instead when the times contradict each other.
 */
export function stamp(input: RecordInput, ctx: StampContext, prefix = ''): { value: ActivityValue } | { problems: InputProblem[] } {
  const problems: InputProblem[] = [];
  if (input.sentAt && input.occurredAt && input.sentAt.getTime() < input.occurredAt.getTime()) {
    problems.push({ path: `${prefix}occurredAt`, message: 'must not be after sentAt' });
  }
  const occurredAt = correctedOccurredAt(input, ctx.receivedAt);
  if (occurredAt.getTime() > ctx.receivedAt.getTime() + MAX_FUTURE_MS) {
    problems.push({ path: `${prefix}occurredAt`, message: 'lies in the future (send sentAt to correct client clock skew)' });
  }
  if (problems.length > 0) return { problems };

  const received = ctx.receivedAtIso ?? ctx.receivedAt.toISOString();
  const userAgent = ctx.userAgent === null ? null : ctx.userAgent.slice(0, 1024);
  let device = input.device ?? null;
  if (!device && userAgent) device = ctx.devices.detect(userAgent);
  return {
    value: {
      schemaVersion: SCHEMA_VERSION,
      eventId: ctx.eventId,
      userId: ctx.userId,
      type: input.type,
      occurredAt: occurredAt === ctx.receivedAt ? received : occurredAt.toISOString(),
      receivedAt: received,
      sessionId: trimOrNull(input.sessionId),
      contentId: trimOrNull(input.contentId),
      pageUrl: trimOrNull(input.pageUrl),
      referrer: trimOrNull(input.referrer),
      properties: input.properties ?? {},
      device,
      location: input.location ?? null,
      ipAddress: ctx.ipAddress,
      userAgent,
    },
  };
}
