import type { ConsumedRecord } from './processor';

export type Batch = { topic: string; partition: number; records: ConsumedRecord[] };

/**
 * Gathers the batches that consumer handlers submit concurrently (one per partition) and hands
 * them to `work` together, one group at a time. Each submitter learns the outcome of the group
 * its batch was in: a failure fails them all, and each is delivered again.
 */
export class BatchCoalescer<R> {
  private waiting: Array<{ batch: Batch; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private running = false;

  constructor(private readonly work: (batches: Batch[]) => Promise<R>) {}

  submit(batch: Batch): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    // Let the handlers of one fetch, started in the same tick, join the first group.
    await new Promise((r) => setImmediate(r));
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0);
      try {
        const r = await this.work(group.map((g) => g.batch));
        for (const g of group) g.resolve(r);
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    this.running = false;
  }
}
