import { activityHeaders, type ActivityValue } from '../domain/activity';
import { encodeCursor } from '../domain/cursor';
import { validateActivityValue } from '../domain/event-schema';
import type { OutgoingRecord, Publisher } from '../domain/publishing';
import { writeAlerts } from '../store/alert-writer';
import { prepareEvents, storeBatch, type IncomingEvent } from '../store/event-writer';
import type { FailedRecord } from '../store/failed-writer';
import type { ProcessedEventMessage, StoredEvent } from '../domain/processed-event';
import { parseAlert, type FraudAlertMessage } from '../domain/alerts';
import type { Store } from '../store';

/** A record as a consumer hands it over. */
export interface ConsumedRecord {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
}

/** Largest part of a bad record kept for the failedEvents query (the DLQ keeps all of it). */
export const RAW_VALUE_LIMIT = 8 * 1024;

/** The original bytes as UTF-8 (invalid sequences become U+FFFD), at most 8 KiB. */
export function rawText(value: Buffer | null): string {
  if (value === null) return '';
  return storable(value.subarray(0, RAW_VALUE_LIMIT).toString('utf8'));
}

/** A record that cannot be processed, as the failed_events table keeps it. */
function deadLetter(topic: string, partition: number, r: ConsumedRecord, reason: string): FailedRecord {
  return { topic, partition, offset: r.offset, key: r.key ? storable(r.key.toString('utf8')) : null, reason: storable(reason), rawValue: rawText(r.value) };
}

/** Text as PostgreSQL can store it: U+0000 becomes U+FFFD. */
export function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/**
 * Parses a record value into an activity value, or says why it cannot be one: not JSON, not a
 * JSON object, or not valid against the activity schema. Times are normalized to
 * `toISOString()` form, so they compare as strings.
 */
export function parseActivity(value: Buffer | null): { value: ActivityValue } | { reason: string } {
  if (value === null) return { reason: 'empty value (tombstone)' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { reason: `not JSON: ${(err as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { reason: `not a JSON object (got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed})` };
  }
  const problems = validateActivityValue(parsed);
  if (problems.length > 0) {
    return { reason: `schema: ${problems.map((p) => `${p.path || '(root)'} ${p.message}`).join('; ')}`.slice(0, 1000) };
  }
  const v = parsed as ActivityValue;
  if (!CANONICAL_TIME.test(v.occurredAt)) v.occurredAt = new Date(v.occurredAt).toISOString();
  if (!CANONICAL_TIME.test(v.receivedAt)) v.receivedAt = new Date(v.receivedAt).toISOString();
  return { value: v };
}

/** Records parsed in one turn of the event loop: enough to amortize the yield, few enough that requests waiting behind it are not held up long. */
const PARSE_TURN = 1_000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A counter that says, every PARSE_TURN calls, that the loop calling it should yield a turn. */
function turnCounter(): () => boolean {
  let n = 0;
  return () => ++n % PARSE_TURN === 0;
}

/** What `toISOString()` gives (the schema has already checked that the date is real). */
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** What processing a group did: every valid event as stored (new or not), how many were new, the dead letters. */
export interface ProcessResult {
  stored: StoredEvent[];
  inserted: number;
  failed: FailedRecord[];
}

export interface ProcessorDeps {
  store: Store;
  publisher: Publisher;
  topics: { activity: string; alerts: string; processed: string; dlq: string };
  /** Called after the store transaction commits, before anything is published (tests stop here). */
  afterStore?: (stored: StoredEvent[]) => Promise<void>;
  /** Publish to the DLQ and processed topics (a replay re-applies the log without repeating them). */
  publish?: boolean;
  /**
   * The stored events of each group, with their cursors, in commit order, as soon as the
   * transaction commits (before they are published): for this process's own subscribers, who then
   * need not wait for the processed topic. They come again from the topic; readers drop repeats.
   */
  onStored?: (events: ProcessedEventMessage[]) => void;
  /** Seconds spent storing and publishing each group, for metrics. */
  onTimings?: (storeSeconds: number, publishSeconds: number, events: number) => void;
}

/**
 * Turns one consumed batch of the activity topic into stored state: valid events and the
 * profiles they change in one transaction (eventIds already stored are skipped), bad records
 * into failed_events; then bad records to the DLQ and stored events to the processed topic.
 * The caller commits offsets after this resolves, so a crash at any point re-delivers the batch
 * and the store's dedup keeps one row per event. Processed events are therefore published at
 * least once, each with its cursor, so readers can drop repeats.
 */
export class ActivityProcessor {
  /** The latest group's publish: publishes go out in group order. */
  private lastPublish: Promise<unknown> = Promise.resolve();
  /** The latest group's transaction, and the publish before the latest. */
  private lastStore: Promise<unknown> = Promise.resolve();
  private publishBeforeLast: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ProcessorDeps) {}

  /** One partition's batch, from parsing to publishing (replay uses this). */
  async process(topic: string, partition: number, records: ConsumedRecord[]): Promise<ProcessResult> {
    const { settled } = await this.processDeferred([{ topic, partition, records }]);
    return settled;
  }

  /**
   * Several partitions' batches of the activity topic in one transaction and one publish: the
   * per-batch costs (writer lock, statements, produce round trip) are paid once for all of them.
   * Resolves as soon as the batches are parsed and the group before them is stored: this group's
   * transaction and then its publish go on while the caller fetches and parses the next group
   * (at most one transaction and two publishes outstanding). `settled` says how it ended; the
   * caller commits offsets only after it resolved.
   */
  async processDeferred(batches: Array<{ topic: string; partition: number; records: ConsumedRecord[] }>): Promise<{ settled: Promise<ProcessResult> }> {
    const alerts = batches.filter((b) => b.topic === this.deps.topics.alerts);
    const activity = batches.filter((b) => b.topic !== this.deps.topics.alerts);
    let alertFailures: FailedRecord[] = [];
    for (const b of alerts) alertFailures = alertFailures.concat((await this.processAlerts(b.topic, b.partition, b.records)).failed);
    if (activity.length === 0) return { settled: Promise.resolve({ stored: [], inserted: 0, failed: alertFailures }) };
    const { events, failed } = await this.parse(activity);
    // The statement's parameters are built now, while the group before is still being stored.
    const prepared = prepareEvents(events);
    const previousStore = this.lastStore;
    const previousPublish = this.lastPublish;
    const publishBefore = this.publishBeforeLast;
    const storing = (async () => {
      await previousStore.catch(() => undefined);
      const t0 = performance.now();
      const r = await storeBatch(this.deps.store, prepared, failed);
      return { ...r, seconds: (performance.now() - t0) / 1000 };
    })();
    const settled = (async () => {
      const { stored, inserted, seconds } = await storing;
      // The next group's transaction goes first: it waits for this one to end, and this group's
      // publishing work (a JSON text per event) would otherwise hold the database idle meanwhile.
      await nextTurn();
      await this.deps.afterStore?.(stored);
      if (this.deps.onStored && this.deps.publish !== false && stored.length > 0) {
        this.deps.onStored(stored.map((e) => ({ ...e, cursor: encodeCursor('ev', e.seq) })));
      }
      const outgoing = this.deps.publish === false ? [] : await this.outgoing(activity, failed, stored);
      await previousPublish.catch(() => undefined);
      const t = performance.now();
      // Queued in order, a turn's worth at a time, for the same reason as parsing.
      const parts: Array<Promise<unknown>> = [];
      for (let i = 0; i < outgoing.length; i += PARSE_TURN) {
        if (i > 0) await nextTurn();
        const part = this.deps.publisher.publish(outgoing.slice(i, i + PARSE_TURN), { immediate: true });
        part.catch(() => undefined); // observed by Promise.all below
        parts.push(part);
      }
      await Promise.all(parts);
      this.deps.onTimings?.(seconds, (performance.now() - t) / 1000, events.length);
      return { stored, inserted, failed: [...alertFailures, ...failed] };
    })();
    storing.catch(() => undefined);
    settled.catch(() => undefined); // the caller gets the failure through `settled`
    this.lastStore = storing;
    this.publishBeforeLast = previousPublish;
    this.lastPublish = settled;
    await previousStore.catch(() => undefined);
    await publishBefore.catch(() => undefined);
    return { settled };
  }

  /**
   * Valid events to store, and dead letters, of the activity batches. A large group is parsed
   * in turns of PARSE_TURN records, so the transaction of the group before, which runs
   * meanwhile, is not kept waiting for its next round trip.
   */
  private async parse(activity: Array<{ topic: string; partition: number; records: ConsumedRecord[] }>): Promise<{ events: IncomingEvent[]; failed: FailedRecord[] }> {
    const events: IncomingEvent[] = [];
    const failed: FailedRecord[] = [];
    const due = turnCounter();
    for (const { topic, partition, records } of activity) {
      for (const r of records) {
        if (due()) await nextTurn();
        const p = parseActivity(r.value);
        if ('value' in p) {
          events.push({ value: p.value, partition, offset: r.offset });
        } else {
          failed.push(deadLetter(topic, partition, r, p.reason));
        }
      }
    }
    return { events, failed };
  }

  /** Dead letters for the DLQ, then stored events for the processed topic (in turns, as parsing). */
  private async outgoing(activity: Array<{ topic: string; partition: number; records: ConsumedRecord[] }>, failed: FailedRecord[], stored: StoredEvent[]): Promise<OutgoingRecord[]> {
    const outgoing = activity.flatMap((b) => this.deadLetters(b.records, failed.filter((f) => f.partition === b.partition && f.topic === b.topic)));
    const due = turnCounter();
    for (const e of stored) {
      if (due()) await nextTurn();
      // A ProcessedEventMessage: the stored event and its cursor (appended to the JSON, not copied).
      const value = `${JSON.stringify(e).slice(0, -1)},"cursor":${JSON.stringify(encodeCursor('ev', e.seq))}}`;
      outgoing.push({ topic: this.deps.topics.processed, key: e.userId, value, headers: activityHeaders(e) });
    }
    return outgoing;
  }

  /** Alerts are stored (deduplicated by alertId) and move their users' risk scores; bad ones are dead letters. */
  private async processAlerts(topic: string, partition: number, records: ConsumedRecord[]): Promise<{ stored: StoredEvent[]; inserted: number; failed: FailedRecord[] }> {
    const alerts: FraudAlertMessage[] = [];
    const failed: FailedRecord[] = [];
    for (const r of records) {
      const p = parseAlert(r.value);
      if ('alert' in p) alerts.push(p.alert);
      else failed.push(deadLetter(topic, partition, r, p.reason));
    }
    const inserted = await this.deps.store.transaction((tx) => writeAlerts(tx, alerts, failed, new Date()));
    const outgoing = this.deadLetters(records, failed);
    if (outgoing.length > 0 && this.deps.publish !== false) await this.deps.publisher.publish(outgoing, { immediate: true });
    return { stored: [], inserted, failed };
  }

  private deadLetters(records: ConsumedRecord[], failed: FailedRecord[]): OutgoingRecord[] {
    if (failed.length === 0) return []; // the usual case: no index of a whole batch for nothing
    const byOffset = new Map(records.map((r) => [r.offset, r]));
    return failed.map((f) => {
      const original = byOffset.get(f.offset)!;
      return {
        topic: this.deps.topics.dlq,
        key: original.key === null ? null : original.key.toString('utf8'),
        value: original.value ?? Buffer.alloc(0),
        headers: {
          'dlq-reason': f.reason,
          'dlq-source-topic': f.topic,
          'dlq-source-partition': String(f.partition),
          'dlq-source-offset': f.offset,
        },
      };
    });
  }
}
