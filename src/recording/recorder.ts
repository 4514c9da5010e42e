import { randomUUID } from 'node:crypto';
import { canRecordForOthers, type Principal } from '../auth/principal';
import type { ClientInfo } from '../domain/client-address';
import { activityHeaders, type ActivityValue, type RecordInput } from '../domain/activity';
import { validateActivityValue } from '../domain/event-schema';
import { Lru } from '../domain/lru';
import type { RateLimiter } from '../domain/rate-limit';
import { stamp } from '../domain/stamping';
import type { DeviceDetector } from '../domain/user-agent';
import { badUserInput, ClientError, forbidden, InfrastructureError, rateLimited, serviceUnavailable } from '../errors';
import type { InputProblem } from '../domain/input-problem';
import type { OutgoingRecord, Publisher, RecordPosition } from '../domain/publishing';
import type { Queryable } from '../store';

/** The answer to recording one event (GraphQL `ActivityReceipt`). */
export interface Receipt {
  eventId: string;
  duplicate: boolean;
  receivedAt: Date;
  topic: string;
  partition: number;
  offset: string;
}

export interface RecorderDeps {
  publisher: Publisher;
  /** The durable truth about which eventIds were stored (the processor writes it). */
  store: Queryable;
  topic: string;
  limiter: RateLimiter;
  devices: DeviceDetector;
  maxBatchSize: number;
  /** eventIds remembered in memory for idempotent retries. */
  recentKeys?: number;
  now?: () => Date;
}

interface Remembered {
  userId: string;
  receipt: Promise<Receipt>;
}

/**
 * The recording pipeline shared by GraphQL and REST: authorize, stamp, validate every input,
 * rate-limit, drop retries of already accepted eventIds, publish the rest durably, answer with
 * receipts. All or nothing: if any input is invalid or forbidden, nothing is published.
 */
export class ActivityRecorder {
  private readonly recent: Lru<string, Remembered>;
  private readonly now: () => Date;

  constructor(private readonly deps: RecorderDeps) {
    this.recent = new Lru(deps.recentKeys ?? 100_000);
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Records `inputs` for `principal`. `pathOf(i)` names input i in error paths (`input.` or
   * `inputs.3.`); `earlier` are problems the caller already found in inputs it could not parse,
   * reported together with these.
   * @throws ClientError FORBIDDEN, BAD_USER_INPUT (every problem listed), RATE_LIMITED or
   *   SERVICE_UNAVAILABLE (Kafka did not acknowledge; nothing is reported as recorded).
   */
  async record(
    principal: Principal,
    client: ClientInfo,
    inputs: RecordInput[],
    pathOf: (i: number) => string,
    earlier: InputProblem[] = [],
  ): Promise<Receipt[]> {
    if (earlier.length > 0 && inputs.length === 0) throw badUserInput(earlier);
    if (inputs.length === 0 || inputs.length > this.deps.maxBatchSize) {
      throw badUserInput([{ path: pathOf(0).split('.')[0] ?? 'inputs', message: `must hold 1 to ${this.deps.maxBatchSize} events` }]);
    }
    const receivedAt = this.now();
    const receivedAtIso = receivedAt.toISOString();
    const problems: InputProblem[] = [...earlier];
    const values: ActivityValue[] = [];
    inputs.forEach((input, i) => {
      const prefix = pathOf(i);
      const userId = input.userId ?? principal.userId;
      if (userId !== principal.userId && !canRecordForOthers(principal)) {
        throw forbidden(`Only service and admin tokens may record for another user (${prefix}userId).`);
      }
      const stamped = stamp(
        input,
        {
          userId,
          eventId: input.eventId ?? randomUUID(),
          receivedAt,
          receivedAtIso,
          ipAddress: client.ip,
          userAgent: client.userAgent,
          devices: this.deps.devices,
        },
        prefix,
      );
      if ('problems' in stamped) {
        problems.push(...stamped.problems);
        return;
      }
      const invalid = validateActivityValue(stamped.value, prefix);
      if (invalid.length > 0) problems.push(...invalid);
      else values.push(stamped.value);
    });
    if (problems.length > 0) throw badUserInput(problems);

    // Budgets are per user the events are recorded for, checked for the whole call at once.
    let wait: number;
    if (values.length === 1) {
      wait = this.deps.limiter.take(values[0]!.userId, 1);
    } else {
      const perUser = new Map<string, number>();
      for (const v of values) perUser.set(v.userId, (perUser.get(v.userId) ?? 0) + 1);
      wait = 0;
      for (const [user, n] of perUser) wait = Math.max(wait, this.deps.limiter.take(user, n));
    }
    if (wait > 0) throw rateLimited(wait);

    // No key chosen by the client: every eventId was drawn here, so none can be a retry.
    if (!inputs.some((i) => i.eventId)) return this.publishDrawn(values, receivedAt);
    return this.publishNew(values, inputs, pathOf, receivedAt);
  }

  /** Publishes values whose eventIds this process drew (never recorded before), in one publish. */
  private async publishDrawn(values: ActivityValue[], receivedAt: Date): Promise<Receipt[]> {
    let positions: RecordPosition[];
    try {
      positions = await this.deps.publisher.publish(values.map((v) => this.toRecord(v)));
    } catch (err) {
      throw asClientError(err);
    }
    return values.map((v, k) => published(v, positions[k]!, receivedAt));
  }

  /** Publishes the values not recorded before; `receivedAt` is the receipt time they were all stamped with. */
  private async publishNew(values: ActivityValue[], inputs: RecordInput[], pathOf: (i: number) => string, receivedAt: Date): Promise<Receipt[]> {
    const answers: Array<Promise<Receipt> | undefined> = new Array(values.length);
    const fresh: number[] = [];
    const clientKeyed: number[] = [];
    const firstInCall = new Map<string, number>();
    values.forEach((v, i) => {
      const earlier = firstInCall.get(v.eventId);
      if (earlier !== undefined) {
        // The same key twice in one call: the later one is a retry of the earlier.
        answers[i] = handled(this.sameUser(v, values[earlier]!.userId, pathOf(i)).then(() => answers[earlier]!).then(asDuplicate));
        return;
      }
      firstInCall.set(v.eventId, i);
      // A key this process has just drawn is in no memory: only a client's key is looked up.
      const clientKey = Boolean(inputs[i]!.eventId);
      const remembered = clientKey ? this.recent.get(v.eventId) : undefined;
      if (remembered) {
        answers[i] = handled(this.sameUser(v, remembered.userId, pathOf(i)).then(() => remembered.receipt).then(asDuplicate));
      } else if (clientKey) {
        clientKeyed.push(i);
      } else {
        fresh.push(i);
      }
    });

    // Keys the client chose may have been recorded before this process remembers: ask the store.
    if (clientKeyed.length > 0) {
      const stored = await this.storedReceipts(clientKeyed.map((i) => values[i]!.eventId));
      for (const i of clientKeyed) {
        const hit = stored.get(values[i]!.eventId);
        if (hit) {
          if (hit.userId !== values[i]!.userId) throw eventIdTaken(pathOf(i));
          answers[i] = Promise.resolve({ ...hit.receipt, duplicate: true });
        } else {
          fresh.push(i);
        }
      }
    }

    if (fresh.length > 0) {
      fresh.sort((a, b) => a - b);
      const publishing = this.deps.publisher.publish(fresh.map((i) => this.toRecord(values[i]!)));
      fresh.forEach((i, k) => {
        const v = values[i]!;
        const receipt = handled(
          publishing.then((positions) => published(v, positions[k]!, receivedAt)),
        );
        answers[i] = receipt;
        // Only a key the client chose can come back in a retry; one drawn here is never looked up.
        if (!inputs[i]!.eventId) return;
        this.recent.set(v.eventId, { userId: v.userId, receipt });
        // A failed publish recorded nothing: forget the key so a retry is published.
        receipt.catch(() => {
          if (this.recent.get(v.eventId)?.receipt === receipt) this.recent.delete(v.eventId);
        });
      });
    }

    try {
      return await Promise.all(answers as Array<Promise<Receipt>>);
    } catch (err) {
      throw asClientError(err);
    }
  }

  private async sameUser(v: ActivityValue, firstUser: string, prefix: string): Promise<void> {
    if (v.userId !== firstUser) throw eventIdTaken(prefix);
  }

  private async storedReceipts(eventIds: string[]): Promise<Map<string, { userId: string; receipt: Receipt }>> {
    let rows: Array<{ event_id: string; user_id: string; received_at: Date; kafka_partition: number; kafka_offset: number | string }>;
    try {
      ({ rows } = await this.deps.store.query(
        `SELECT event_id, user_id, received_at, kafka_partition, kafka_offset
           FROM activity_events WHERE event_id = ANY($1::text[])`,
        [eventIds],
      ));
    } catch (err) {
      if (err instanceof InfrastructureError) throw serviceUnavailable('The store');
      throw err;
    }
    return new Map(
      rows.map((r) => [
        r.event_id,
        {
          userId: r.user_id,
          receipt: {
            eventId: r.event_id,
            duplicate: true,
            receivedAt: new Date(r.received_at),
            topic: this.deps.topic,
            partition: r.kafka_partition,
            offset: String(r.kafka_offset),
          },
        },
      ]),
    );
  }

  private toRecord(value: ActivityValue): OutgoingRecord {
    return { topic: this.deps.topic, key: value.userId, value: JSON.stringify(value), headers: activityHeaders(value) };
  }
}

/** Marks a promise as observed, so rejecting before the caller awaits it never counts as unhandled. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

const asDuplicate = (r: Receipt): Receipt => ({ ...r, duplicate: true });

/** The receipt of a value Kafka has at `p`. */
const published = (v: ActivityValue, p: RecordPosition, receivedAt: Date): Receipt => ({
  eventId: v.eventId,
  duplicate: false,
  receivedAt,
  topic: p.topic,
  partition: p.partition,
  offset: p.offset,
});

/** What the caller is told of a failed publish: Kafka's failures as SERVICE_UNAVAILABLE. */
const asClientError = (err: unknown): unknown => (err instanceof InfrastructureError ? serviceUnavailable('Kafka') : err);

const eventIdTaken = (prefix: string): ClientError =>
  badUserInput([{ path: `${prefix}eventId`, message: 'is already used by another user' }]);
