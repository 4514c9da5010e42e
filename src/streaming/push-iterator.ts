/**
 * An async iterator fed by pushes: what a subscription returns to graphql-ws. The buffer is
 * bounded; when a push finds it full, `onOverflow` decides what the consumer sees (for a
 * subscription: an error that ends it), so a slow reader never grows memory without bound.
 */
export interface PushIteratorOptions<T> {
  /** Values buffered at most before `onOverflow` runs. */
  capacity: number;
  /** Called once, when a push finds the buffer full; its return value is thrown to the reader. */
  onOverflow?: (dropped: T) => Error;
  /** Called once when the reader stops (return, throw, overflow or end): release resources here. */
  onClose?: () => void;
}

export class PushIterator<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: Array<{ resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }> = [];
  private failure: Error | undefined;
  private ending = false;
  private done = false;

  constructor(private readonly options: PushIteratorOptions<T>) {}

  /** Whether the reader is still there: pushes after that are ignored. */
  get closed(): boolean {
    return this.done;
  }

  /** Delivers a value; returns false when the iterator is closed or has just overflowed. */
  push(value: T): boolean {
    if (this.done || this.failure || this.ending) return false;
    const waiter = this.waiting.shift();
    if (waiter) {
      waiter.resolve({ value, done: false });
      return true;
    }
    if (this.buffer.length >= this.options.capacity) {
      this.fail(this.options.onOverflow?.(value) ?? new Error('subscriber buffer overflow'));
      return false;
    }
    this.buffer.push(value);
    return true;
  }

  /** Ends the stream with an error, after what is already buffered has been read. */
  fail(error: Error): void {
    if (this.done || this.failure) return;
    this.failure = error;
    this.drainWaiters();
  }

  /** Ends the stream normally, after what is already buffered has been read. */
  end(): void {
    if (this.done) return;
    this.ending = true;
    if (this.buffer.length === 0) this.finish();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.failure) {
      const error = this.failure;
      this.finish();
      return Promise.reject(error);
    }
    if (this.ending) {
      this.finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.finish();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private drainWaiters(): void {
    if (!this.failure) return;
    const error = this.failure;
    while (this.waiting.length > 0) {
      this.waiting.shift()!.reject(error);
      this.finish();
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.buffer.length = 0;
    for (const w of this.waiting.splice(0)) w.resolve({ value: undefined, done: true });
    this.options.onClose?.();
  }
}
