import type { Job } from '../core/job.ts';
import { LIMITS } from '../core/limits.ts';
import type { OperationHost } from './operations.ts';

/** A receive waiting for its share of the next claim. */
interface Waiter {
  readonly max: number;
  readonly signal: AbortSignal;
  readonly resolve: (jobs: Job[]) => void;
  readonly reject: (err: unknown) => void;
  readonly onAbort: () => void;
}

/**
 * The immediate claims of the pull receives of one queue (and one set of resource tags), made
 * together: receives that arrive in the same turn of the event loop, or while a claim is in
 * flight, wait for the next round, which leases at most the sum of what they ask for in one
 * store call and hands each its share in arrival order. So concurrent receives of a busy queue
 * cost one claim (its transaction's promotion and expiry queries, its savepoint) instead of one
 * each. A receive whose caller goes away before its round leaves it and counts for nothing; one
 * whose caller goes away while the round's claim is in flight has its share given back at once.
 */
class ReceivePool {
  readonly #host: OperationHost;
  readonly #queue: string;
  readonly #tags: readonly string[];
  readonly #onIdle: () => void;
  #waiting: Waiter[] = [];
  #scheduled = false;
  #claiming = false;

  constructor(host: OperationHost, queue: string, tags: readonly string[], onIdle: () => void) {
    this.#host = host;
    this.#queue = queue;
    this.#tags = tags;
    this.#onIdle = onIdle;
  }

  /** Up to `max` jobs from the next round's claim (none when `signal` aborts first). */
  take(max: number, signal: AbortSignal): Promise<Job[]> {
    return new Promise<Job[]>((resolve, reject) => {
      const waiter: Waiter = {
        max, signal, resolve, reject,
        onAbort: () => {
          const at = this.#waiting.indexOf(waiter);
          if (at < 0) return; // its round has started: the deal gives its share back
          this.#waiting.splice(at, 1);
          resolve([]);
          this.#idleCheck();
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiting.push(waiter);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#claiming || this.#waiting.length === 0) return;
    this.#scheduled = true;
    // The receives parsed in this turn of the event loop join the same round.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#round();
    });
  }

  async #round(): Promise<void> {
    // A round leases at most what one claim may take; the receives beyond it wait for the next.
    let total = 0;
    let n = 0;
    while (n < this.#waiting.length && (n === 0 || total + this.#waiting[n]!.max <= LIMITS.claimBatchMax.max)) total += this.#waiting[n++]!.max;
    if (n === 0) return this.#idleCheck();
    const round = this.#waiting.splice(0, n);
    this.#claiming = true;
    let jobs: Job[];
    try {
      jobs = await this.#host.claim(this.#queue, total, { tags: this.#tags });
    } catch (err) {
      for (const w of round) this.#settle(w, () => w.reject(err));
      this.#next();
      return;
    }
    let at = 0;
    for (const w of round) {
      if (w.signal.aborted) {
        this.#settle(w, () => w.resolve([]));
        continue;
      }
      const share = jobs.slice(at, at + w.max);
      at += share.length;
      this.#settle(w, () => w.resolve(share));
    }
    // Shares of receives whose callers left while the claim was in flight: nobody holds them.
    for (const job of jobs.slice(at)) void this.#host.release({ jobId: job.id, token: job.leaseToken }).catch(() => {});
    this.#next();
  }

  #settle(w: Waiter, how: () => void): void {
    w.signal.removeEventListener('abort', w.onAbort);
    how();
  }

  #next(): void {
    this.#claiming = false;
    this.#schedule();
    this.#idleCheck();
  }

  #idleCheck(): void {
    if (!this.#scheduled && !this.#claiming && this.#waiting.length === 0) this.#onIdle();
  }
}

/** The pools of each host, by queue and tags; a pool lives while receives wait on it. */
const POOLS = new WeakMap<OperationHost, Map<string, ReceivePool>>();

/**
 * Leases up to `max` jobs of `queue` now, in one claim with the other receives of the queue
 * (and tags) that wait for one at the same time. Resolves to none when `signal` aborts first.
 */
export function claimPooled(host: OperationHost, queue: string, max: number, signal: AbortSignal, tags: readonly string[] = []): Promise<Job[]> {
  if (signal.aborted) return Promise.resolve([]);
  let pools = POOLS.get(host);
  if (!pools) POOLS.set(host, (pools = new Map()));
  const key = `${queue}\n${tags.join(',')}`;
  let pool = pools.get(key);
  if (!pool) {
    const own = pools;
    const made: ReceivePool = new ReceivePool(host, queue, tags, () => {
      if (own.get(key) === made) own.delete(key);
    });
    pools.set(key, (pool = made));
  }
  return pool.take(max, signal);
}
