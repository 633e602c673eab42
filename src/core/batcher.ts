/**
 * Coalesces calls made during one turn of the event loop into one batch call.
 * Items are passed to `flush` in arrival order; `flush` returns one result per
 * item. If the batch call itself throws, every caller in the batch gets that error.
 * @example
 * const completes = new Batcher((items) => store.jobsComplete(items, clock.now()), 1000);
 * await completes.push(item); // shares a transaction with the other acks of this tick
 */
export class Batcher<T, R> {
  readonly #flush: (items: T[]) => Promise<R[]>;
  readonly #maxBatch: number;
  #items: T[] = [];
  #waiters: { resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #scheduled = false;

  constructor(flush: (items: T[]) => Promise<R[]>, maxBatch: number) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#items.push(item);
      this.#waiters.push({ resolve, reject });
      if (this.#items.length >= this.#maxBatch) this.#run();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#run());
      }
    });
  }

  #run(): void {
    this.#scheduled = false;
    if (this.#items.length === 0) return;
    const items = this.#items;
    const waiters = this.#waiters;
    this.#items = [];
    this.#waiters = [];
    this.#flush(items).then(
      (results) => {
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(results[i]!);
      },
      (err) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }
}
