/** What a deadline is kept for: when it was queued, and whether it has been settled since. */
export interface Deadlined {
  /** performance.now() when it was queued; `timeoutMs` later it times out. */
  queuedAt: number;
  settled: boolean;
}

/**
 * The deadlines of every publish not yet settled. They all wait `timeoutMs` from when they were
 * queued, so in the order queued they are in deadline order: one timer for the oldest instead
 * of one per publish, which showed in single-event recording. Settled ones are dropped from the
 * front as they settle (they settle mostly in order).
 */
export class PublishDeadlines<T extends Deadlined> {
  private readonly list: Array<T | undefined> = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `onTimeout` must settle what it is given (and then call `settled`). */
  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: (item: T) => void,
  ) {}

  /** Keeps `item`'s deadline (it is the latest so far). */
  track(item: T): void {
    this.list.push(item);
    if (!this.timer) this.arm();
  }

  /** Times out what is past its deadline, then sets the timer for the oldest publish still open. */
  private arm(): void {
    const now = performance.now();
    this.timer = undefined;
    const timeout = this.timeoutMs;
    for (let head = this.list[this.head]; head && head.queuedAt + timeout <= now; head = this.list[this.head]) this.onTimeout(head);
    const oldest = this.list[this.head];
    if (!oldest) return;
    this.timer = setTimeout(() => this.arm(), Math.max(1, oldest.queuedAt + timeout - now));
    this.timer.unref();
  }

  /** Drops settled publishes from the front. */
  settled(): void {
    const list = this.list;
    while (this.head < list.length && list[this.head]!.settled) list[this.head++] = undefined;
    if (this.head === list.length) {
      list.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > list.length) {
      list.splice(0, this.head);
      this.head = 0;
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
