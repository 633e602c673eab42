import type { Clock, TimerHandle } from '../core/clock.ts';

/**
 * Adds waiting for room in a full bounded queue. A waiter is woken when this process sees jobs
 * leave the queue's waiting jobs (it leased them, or the queue's settings changed), and in any
 * case after `pollMs`: jobs leased by other processes sharing the store are not announced, so a
 * waiter looks again at that slow pace (never a tight loop). Each wake-up wakes every waiter of
 * the queue; they try again, and those that find the queue still full wait again.
 */
export class Room {
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(clock: Clock, pollMs: number) {
    this.#clock = clock;
    this.#pollMs = pollMs;
  }

  /** Resolves when room may have been made in `queue`, or after at most `maxMs` (and `pollMs`). */
  wait(queue: string, maxMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.#waiters.get(queue);
      if (!set) this.#waiters.set(queue, (set = new Set()));
      let timer: TimerHandle | null = null;
      const done = (): void => {
        if (timer !== null) this.#clock.clearTimeout(timer);
        const waiters = this.#waiters.get(queue);
        waiters?.delete(done);
        if (waiters?.size === 0) this.#waiters.delete(queue);
        resolve();
      };
      set.add(done);
      timer = this.#clock.setTimeout(done, Math.max(0, Math.min(maxMs, this.#pollMs)));
    });
  }

  /** Jobs left `queue`'s waiting jobs (or its bound changed): every waiter tries again. */
  freed(queue: string): void {
    const set = this.#waiters.get(queue);
    if (!set) return;
    for (const done of [...set]) done();
  }

  /** Adds waiting now, for tests and shutdown. */
  get waiting(): number {
    let n = 0;
    for (const set of this.#waiters.values()) n += set.size;
    return n;
  }
}
