/**
 * KafkaJS 2.2.4's request queue (one per broker connection) ends every check of its pending
 * requests by scheduling the next check at `throttledUntil - Date.now()` ms. Unthrottled,
 * `throttledUntil` is -1, the delay is negative (Node runs it after 1 ms), and the check it runs
 * schedules the next one: from its first response on, every connection spins a 1 ms timer for as
 * long as it lives, with nothing to check (tulios/kafkajs#1556, fix proposed in #1667, unmerged).
 * A gateway with nothing to do woke about 1,800 times a second and used 30 to 40 ms of CPU a
 * second on it.
 *
 * `installIdleRequestQueue` makes the scheduling do nothing while no request is pending. Nothing
 * is lost: a request is only ever left pending by `push` (throttled, or at the in-flight limit),
 * which schedules a check itself, and a response or timeout of an in-flight request runs the
 * check directly. With requests pending KafkaJS's own scheduling runs unchanged. If the module is
 * not where 2.2.4 has it, nothing is changed.
 */

interface RequestQueueLike {
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
}

const PATCHED = Symbol.for('activity-gateway.idle-request-queue');

type Schedule = ((this: RequestQueueLike) => void) & { [PATCHED]?: true };

function requestQueueClass(): { prototype: RequestQueueLike } | undefined {
  try {
    const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype?: Partial<RequestQueueLike> };
    return typeof RequestQueue?.prototype?.scheduleCheckPendingRequests === 'function' ? (RequestQueue as { prototype: RequestQueueLike }) : undefined;
  } catch {
    return undefined;
  }
}

/** Wraps KafkaJS's `scheduleCheckPendingRequests` once; a no-op where that cannot be done. */
export function installIdleRequestQueue(): void {
  const RequestQueue = requestQueueClass();
  if (!RequestQueue) return;
  const original = RequestQueue.prototype.scheduleCheckPendingRequests as Schedule;
  if (original[PATCHED]) return;
  const schedule: Schedule = function (this: RequestQueueLike) {
    if (this.pending.length === 0) return;
    original.call(this);
  };
  schedule[PATCHED] = true;
  RequestQueue.prototype.scheduleCheckPendingRequests = schedule;
}

installIdleRequestQueue();
