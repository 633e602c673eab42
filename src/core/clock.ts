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

/** How fast steady time may run ahead of or behind the monotonic clock while it catches up: 10 %. */
export const CLOCK_SLEW = 0.1;

/** A steady clock (see {@link steadyTime}). */
export interface SteadyTime {
  /** Epoch milliseconds, whole: never less than the previous reading, never a jump. */
  now(): number;
  /** The wall clock minus steady time at the last reading, in ms: how far the wall clock was stepped and not yet caught up. */
  offsetMs(): number;
  /** The largest |offset| seen since start, in ms. */
  maxOffsetMs(): number;
}

/**
 * Time that follows the wall clock but never jumps and never goes backwards. It advances with
 * the monotonic clock `mono` (ms, any origin) and is steered towards the wall clock `wall`
 * (epoch ms) by at most `slew` of the monotonic time elapsed: with the default 0.1, it runs at
 * most 10 % fast or slow. Normally the two agree and steady time is the wall clock; when the
 * wall clock is stepped (an operator, NTP), steady time catches up over 10× the step (a 60 s
 * step: 10 minutes), so a lease or delay is never more than 10 % short or long because of it.
 * Each reading costs one call of each clock and allocates nothing.
 */
export function steadyTime(wall: () => number, mono: () => number, slew = CLOCK_SLEW): SteadyTime {
  // Steady time is `base + (m + adj)`, m the monotonic reading. It is not one accumulated sum:
  // epoch ms (~1.8e12) are spaced 2.4e-4 ms apart in a double, and readings many times a
  // millisecond advance by less, so a sum would stand still. `adj` (the corrections taken so
  // far, as large as the steps caught up) and `m` stay small enough to add exactly.
  let lastM = mono();
  const base = wall() - lastM;
  let adj = 0;
  let out = Math.floor(base + lastM);
  let offset = 0;
  let maxOffset = 0;
  return {
    now() {
      let m = mono();
      if (m < lastM) m = lastM;
      const bound = slew * (m - lastM);
      lastM = m;
      const w = wall();
      const diff = w - (base + (m + adj));
      adj += diff > bound ? bound : diff < -bound ? -bound : diff;
      const steady = base + (m + adj);
      offset = w - steady;
      const abs = offset < 0 ? -offset : offset;
      if (abs > maxOffset) maxOffset = abs;
      const t = Math.floor(steady);
      if (t > out) out = t;
      return out;
    },
    offsetMs: () => offset,
    maxOffsetMs: () => maxOffset,
  };
}

const systemTime = steadyTime(Date.now, () => performance.now());

/**
 * How far the machine's wall clock is from Spool's time, in ms (wall − Spool): non-zero, and
 * shrinking by at most 10 % of elapsed time, after the wall clock was stepped.
 */
export function clockOffsetMs(): number {
  systemTime.now();
  return systemTime.offsetMs();
}

/** The largest |{@link clockOffsetMs}| this process has seen, in ms. */
export function maxClockOffsetMs(): number {
  systemTime.now();
  return systemTime.maxOffsetMs();
}

/** The offset past which a step of the wall clock is worth telling the operator: 1 s. */
export const CLOCK_STEP_NOTICE_MS = 1000;

/**
 * Notices steps of the machine's clock, once each: the returned function, called now and then
 * (a maintenance tick), returns {@link clockOffsetMs} when it first exceeds `thresholdMs`, then
 * null until the offset has come back under the threshold (the step is nearly caught up).
 */
export function clockStepWatch(thresholdMs = CLOCK_STEP_NOTICE_MS, offsetMs: () => number = clockOffsetMs): () => number | null {
  let noticed = false;
  return () => {
    const offset = offsetMs();
    const over = Math.abs(offset) > thresholdMs;
    const news = over && !noticed;
    noticed = over;
    return news ? offset : null;
  };
}

/**
 * The real clock: the wall clock, made steady. If the machine's clock is stepped, Spool's time
 * catches up at most 10 % fast or slow instead of jumping, so leases and delays are not cut
 * short or held late by the step, and time never goes backwards within a process.
 * Timers are unref'd: a pending timer alone never keeps the process alive.
 */
export const systemClock: Clock = {
  now: () => systemTime.now(),
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
