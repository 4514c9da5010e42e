/** What the sequencer orders: anything with its own position and its predecessor's. */
export interface Sequenced {
  seq: number;
  prevSeq: number;
}

export interface SequencerOptions<T extends Sequenced> {
  /** The position everything before (and at) which counts as delivered. */
  start: number;
  /** Receives items in strict `seq` order, each once. */
  deliver: (item: T) => void;
  /** Reads the items after `after` up to and including `upTo` from the store, in order. */
  fill: (after: number, upTo: number) => Promise<T[]>;
  /** How long a gap may stay open before it is filled from the store, ms. */
  gapMs: number;
  /** Bound on items held while waiting for a gap; past it the gap is filled at once. */
  maxHeld?: number;
  onError?: (err: unknown) => void;
}

/**
 * Puts processed events back into processing order. The processed topic spreads events over
 * partitions, so they arrive slightly out of order, sometimes twice; each names its
 * predecessor (`prevSeq`), so an item whose predecessor was delivered goes at once, an item
 * already delivered is dropped, and one whose predecessor is missing waits. A gap still open
 * after `gapMs` (the predecessor was published before this reader started, or is slow) is
 * filled from the store, which holds every committed event in order.
 */
export class Sequencer<T extends Sequenced> {
  private delivered: number;
  private readonly held = new Map<number, T>(); // by prevSeq
  private timer: NodeJS.Timeout | undefined;
  private filling = false;

  constructor(private readonly o: SequencerOptions<T>) {
    this.delivered = o.start;
  }

  /** The last position delivered. */
  get position(): number {
    return this.delivered;
  }

  push(item: T): void {
    if (item.seq <= this.delivered) return; // already delivered (a repeat after a crash)
    if (item.prevSeq <= this.delivered) {
      this.emit(item);
      this.drain();
      return;
    }
    this.held.set(item.prevSeq, item);
    if (this.held.size >= (this.o.maxHeld ?? 10_000)) {
      void this.fillGap();
    } else if (!this.timer && !this.filling) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.fillGap();
      }, this.o.gapMs);
      this.timer.unref();
    }
  }

  private emit(item: T): void {
    this.delivered = item.seq;
    this.o.deliver(item);
  }

  private drain(): void {
    for (;;) {
      const next = this.held.get(this.delivered);
      if (!next) break;
      this.held.delete(this.delivered);
      this.emit(next);
    }
    // Anything left that is already covered was a repeat.
    for (const [prev, item] of this.held) if (item.seq <= this.delivered || prev < this.delivered) this.held.delete(prev);
    if (this.held.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private async fillGap(): Promise<void> {
    if (this.filling || this.held.size === 0) return;
    this.filling = true;
    try {
      const upTo = Math.min(...[...this.held.values()].map((i) => i.prevSeq));
      const missing = await this.o.fill(this.delivered, upTo);
      for (const item of missing) if (item.seq > this.delivered) this.emit(item);
      // The store is complete up to upTo: whatever the first held item waits for is delivered.
      if (this.delivered < upTo) this.delivered = upTo;
      this.drain();
    } catch (err) {
      this.o.onError?.(err);
    } finally {
      this.filling = false;
      if (this.held.size > 0 && !this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.fillGap();
        }, this.o.gapMs);
        this.timer.unref();
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
  }
}
