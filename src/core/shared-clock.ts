import { steadyTime, systemClock, type Clock } from './clock.ts';

/**
 * Spool's time on a store that processes on several machines share: the store server's clock,
 * read now and then, kept steady as the machine's own is (src/core/clock.ts).
 *
 * Why: a delay or a lease is an absolute time in the store, set by the process that adds or
 * claims and compared by whichever process claims or reaps next. With each process on its own
 * wall clock, a machine whose clock is a second behind sets due times a second early for every
 * other process (its delayed jobs run early elsewhere; its leases are reaped early elsewhere),
 * and a steady clock only spreads such a step over ten times its length. On the server's clock
 * every process agrees to within the error of one reading (half its round trip), and a step of
 * one machine's clock is corrected at its next reading instead.
 */
export interface SharedClock extends Clock {
  /** Takes a new reading: how far the reference clock is ahead of this machine's wall clock, in ms. */
  reference(offsetMs: number): void;
  /** The offset of the last reading, in ms. */
  referenceOffsetMs(): number;
}

/**
 * A clock that follows `wall() + offset`, where `offset` is set by readings of the reference.
 * Time never jumps: between readings and after a new one it moves as steady time does (at most
 * 10 % fast or slow while it catches up).
 */
export function sharedClock(offsetMs: number, wall: () => number = Date.now, mono: () => number = () => performance.now()): SharedClock {
  let offset = offsetMs;
  const time = steadyTime(() => wall() + offset, mono);
  return {
    now: () => time.now(),
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
    reference(o) {
      offset = o;
    },
    referenceOffsetMs: () => offset,
  };
}

/** A reading is used only if its answer came back within this (its error is at most half of it). */
export const CLOCK_READING_MAX_RTT_MS = 250;

/** How far this machine's wall clock may move beside the monotonic clock during a reading before it is not trusted: it was stepped meanwhile. */
const READING_STEP_MS = 5;

/**
 * One reading of the reference clock: how far it is ahead of this machine's wall clock (ms), and
 * the round trip it took; null when the wall clock was stepped during it.
 */
export async function readOffset(
  reference: () => Promise<number>, wall: () => number = Date.now, mono: () => number = () => performance.now(),
): Promise<{ offsetMs: number; rttMs: number } | null> {
  const m0 = mono();
  const w0 = wall();
  const t = await reference();
  const m1 = mono();
  const w1 = wall();
  const rttMs = m1 - m0;
  if (Math.abs(w1 - w0 - rttMs) > READING_STEP_MS) return null;
  // The server read its clock somewhere within the round trip: the middle is the best guess.
  return { offsetMs: t - (w0 + w1) / 2, rttMs };
}

/** The best of up to `tries` readings (the shortest round trip), for a process's first time; null if every one was disturbed by a step. */
export async function firstOffset(reference: () => Promise<number>, tries = 3): Promise<number | null> {
  let best: { offsetMs: number; rttMs: number } | null = null;
  for (let i = 0; i < tries; i++) {
    const r = await readOffset(reference);
    if (r && (!best || r.rttMs < best.rttMs)) best = r;
    if (best && best.rttMs <= CLOCK_READING_MAX_RTT_MS / 10) break; // as good as it gets
  }
  return best?.offsetMs ?? null;
}
