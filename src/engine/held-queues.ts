import type { Clock, TimerHandle } from '../core/clock.ts';
import { timerDelayMs } from '../core/clock.ts';

/**
 * Queues a rate limit held back (a claim found its bucket, or its keys' buckets, out of
 * tokens), each with one timer set to when the claim said the next token is due: then the
 * queue's consumers are woken, push subscribers and waiting receives alike. No polling: one wake-up per due time, and a later due
 * time never replaces an earlier one. A wake-up that finds the tokens taken by another process
 * is held again, with the new due time.
 */
export class HeldQueues {
  readonly #clock: Clock;
  readonly #wake: (queue: string) => void;
  readonly #timers = new Map<string, { at: number; timer: TimerHandle }>();
  #stopped = false;

  constructor(clock: Clock, wake: (queue: string) => void) {
    this.#clock = clock;
    this.#wake = wake;
  }

  /** `queue` was held back; wake its consumers at `at` (clock ms). */
  hold(queue: string, at: number): void {
    if (this.#stopped) return;
    const due = Math.max(at, this.#clock.now() + 1); // never a wake-up in the same instant: the rule just said no
    const current = this.#timers.get(queue);
    // Held again for the same instant (it took the last token and asked again): it goes behind
    // the queues held since, so queues sharing a limiter take turns at a token rather than the
    // first one held always taking it.
    if (current && current.at < due) return;
    if (current) this.#clock.clearTimeout(current.timer);
    const timer = this.#clock.setTimeout(() => {
      this.#timers.delete(queue);
      this.#wake(queue);
    }, timerDelayMs(due - this.#clock.now()));
    this.#timers.set(queue, { at: due, timer });
  }

  /** When `queue` is due to be woken, if it is held; null if not. */
  heldUntil(queue: string): number | null {
    return this.#timers.get(queue)?.at ?? null;
  }

  stop(): void {
    this.#stopped = true;
    for (const { timer } of this.#timers.values()) this.#clock.clearTimeout(timer);
    this.#timers.clear();
  }
}
