import { INSTALLED, modulePath, skipped, type InstallResult } from './module-export';

/**
 * KafkaJS 2.2.4's request queue (one per broker connection) ends every check of its pending
 * requests by scheduling the next check at `throttledUntil - Date.now()` ms. Unthrottled,
 * `throttledUntil` is -1, the delay is negative (Node runs it after 1 ms), and the check it runs
 * schedules the next one: from its first response on, every connection spins a 1 ms timer for as
 * long as it lives, with nothing to check (tulios/kafkajs#1556, fix proposed in #1667, unmerged).
 * An idle gateway spends a noticeable share of a core on those wake-ups, and a busy one runs
 * thousands of needless timer callbacks a second between its requests.
 *
 * `installIdleRequestQueue` makes the scheduling do nothing while no request is pending. Nothing
 * is lost: a request is only ever left pending by `push` (throttled, or at the in-flight limit),
 * which schedules a check itself, and a response or timeout of an in-flight request runs the
 * check directly. With requests pending KafkaJS's own scheduling runs unchanged. It changes the
 * class's prototype, so unlike the export replacements it takes effect whenever it runs;
 * `installKafkaPatches` (`patches.ts`) runs it with them, from `createKafka`. If the module is not
 * where 2.2.4 has it, nothing is changed and the install says so.
 */

interface RequestQueueLike {
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
}

const PATCHED = Symbol.for('activity-gateway.idle-request-queue');

type Schedule = ((this: RequestQueueLike) => void) & { [PATCHED]?: true };

/** Where KafkaJS 2.2.4 keeps its request queue. */
export const REQUEST_QUEUE = 'kafkajs/src/network/requestQueue';

/** Wraps the `scheduleCheckPendingRequests` of `target` (KafkaJS's request queue) once; says whether it is in place. */
export function installIdleRequestQueue(target = REQUEST_QUEUE): InstallResult {
  const path = modulePath(target);
  if (path === undefined) return skipped(`${target} not found`);
  const RequestQueue = require(path) as { prototype?: Partial<RequestQueueLike> } | undefined;
  const original = RequestQueue?.prototype?.scheduleCheckPendingRequests as Schedule | undefined;
  if (typeof original !== 'function') return skipped(`${target} has no scheduleCheckPendingRequests`);
  if (original[PATCHED]) return INSTALLED;
  const schedule: Schedule = function (this: RequestQueueLike) {
    if (this.pending.length === 0) return;
    original.call(this);
  };
  schedule[PATCHED] = true;
  RequestQueue!.prototype!.scheduleCheckPendingRequests = schedule;
  return INSTALLED;
}

/** Whether KafkaJS's request queue schedules its checks through the change now. */
export function idleRequestQueueInstalled(target = REQUEST_QUEUE): boolean {
  const path = modulePath(target);
  if (path === undefined || require.cache[path] === undefined) return false;
  const RequestQueue = require.cache[path]!.exports as { prototype?: { scheduleCheckPendingRequests?: Schedule } } | undefined;
  return RequestQueue?.prototype?.scheduleCheckPendingRequests?.[PATCHED] === true;
}
