/**
 * All time in the engine comes from a Clock, so tests can move time instead of
 * sleeping. Times are Unix epoch milliseconds.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`. A ManualClock waits for the promise `fn` returns, so moved time has fully taken effect. */
  setTimeout(fn: () => void | Promise<void>, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: true } | NodeJS.Timeout;

/**
 * The longest delay Node's timers take (2³¹−1 ms, about 24.9 days). Node turns a longer one
 * into 1 ms (with a TimeoutOverflowWarning), so a job delayed by a month would wake its timer
 * a thousand times a second. Longer waits are cut to this: the timer fires early, its owner
 * finds nothing due, and arms it again.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** A delay as Node's timers can take it: at least 0, at most {@link TIMER_MAX_MS}, never NaN. */
export function timerDelayMs(ms: number): number {
  return Number.isNaN(ms) ? 0 : Math.min(TIMER_MAX_MS, Math.max(0, ms));
}

/** The real wall clock. Timers are unref'd: a pending timer alone never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, timerDelayMs(ms));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

interface ManualTimer {
  readonly __timer: true;
  at: number;
  seq: number;
  fn: () => void | Promise<void>;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires the timers that fall due,
 * in time order, and lets the promises they start settle.
 * @example
 * const clock = new ManualClock(Date.parse('2026-01-01'));
 * const spool = await Spool.open({ store: 'memory', clock });
 * await clock.advance(30_000); // lease timeouts and delays fall due
 */
export class ManualClock implements Clock {
  #now: number;
  #timers = new Set<ManualTimer>();
  #seq = 0;

  constructor(startMs = Date.parse('2026-01-01T00:00:00Z')) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void | Promise<void>, ms: number): TimerHandle {
    const timer: ManualTimer = { __timer: true, at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as ManualTimer);
  }

  /** Moves time forward by `ms`, firing due timers in order and waiting for the work they start. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.#timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      await next.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}

/** Lets pending promise chains and immediates (group commits) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
