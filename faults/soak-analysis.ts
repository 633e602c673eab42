/**
 * The soak's verdicts (pure, no I/O): is a process's memory and file descriptor count flat, what
 * is the add→delivery latency per second, and how long after each fault it is back to normal.
 * Kept apart from faults/soak.ts so the rules can be tested on synthetic data
 * (faults/soak-analysis.test.ts) and read in one place; docs/reliability.md (## Soak) repeats them.
 */
import type { HistoryEvent } from './events.ts';

/** RSS may grow at most this fast over the judged span (the second half of the run). */
export const RSS_SLOPE_BOUND_MB_PER_MIN = 1;
/** Open file descriptors at the end may differ this much from the start. */
export const FD_BOUND = 10;
/** A second is quiet (counts toward the baseline) once this long after any fault's strike. */
export const QUIET_AFTER_MS = 10_000;
/** Latency must be back to normal this soon after a fault's strike. */
export const BACK_BOUND_MS = 5_000;
/**
 * Once back, p99 has to stay normal this long (or until the next fault), so one good second among
 * bad ones does not count; not longer, so an unrelated jitter spike seconds later does not either.
 */
export const HOLD_MS = 3_000;

export interface Sample { at: number; rssKb: number; fds: number }

/** Least-squares slope of y over x; 0 for fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export interface Flatness {
  rssStartMb: number;
  rssEndMb: number;
  /** Slope of RSS over the judged span, MB per minute. */
  rssSlopeMbPerMin: number;
  fdsStart: number;
  fdsEnd: number;
  ok: boolean;
  reasons: string[];
}

/**
 * RSS is judged by its median per window of this length: a collection that gives memory back for
 * a while, or a burst (a fault's backlog) that takes more for a few seconds, moves single samples
 * by 10–20 MB either way; a leak moves every window's median.
 */
export const RSS_WINDOW_MS = 60_000;

/**
 * Judges one incarnation's samples. RSS: the slope over `[slopeFrom, ∞)` (the second half: the
 * first half holds the heap's warm-up, JIT and buffers sized to the load, which is growth but not
 * a leak) of the median RSS of each {@link RSS_WINDOW_MS} window. Fds: the median of the first and of the last `edge` samples, not single samples, so a
 * reconnect in progress at either end (a socket more or less) does not decide it.
 */
export function flatness(samples: readonly Sample[], slopeFrom: number, edge = 10): Flatness | null {
  if (samples.length < 2) return null;
  const late = samples.filter((s) => s.at >= slopeFrom);
  const windows = new Map<number, number[]>();
  for (const s of late) {
    const w = Math.floor((s.at - slopeFrom) / RSS_WINDOW_MS);
    windows.set(w, [...(windows.get(w) ?? []), s.rssKb]);
  }
  const perMin = slope([...windows].map(([w, kb]) => ({ x: ((w + 0.5) * RSS_WINDOW_MS) / 60_000, y: median(kb)! / 1024 })));
  const fdsStart = median(samples.slice(0, edge).map((s) => s.fds))!;
  const fdsEnd = median(samples.slice(-edge).map((s) => s.fds))!;
  const reasons: string[] = [];
  if (late.length < 2) reasons.push('too few samples in the judged span');
  if (perMin >= RSS_SLOPE_BOUND_MB_PER_MIN) reasons.push(`RSS grows ${perMin.toFixed(2)} MB/min (bound ${RSS_SLOPE_BOUND_MB_PER_MIN})`);
  if (Math.abs(fdsEnd - fdsStart) > FD_BOUND) reasons.push(`open fds ${fdsStart} → ${fdsEnd} (bound ±${FD_BOUND})`);
  return {
    rssStartMb: samples[0]!.rssKb / 1024,
    rssEndMb: samples.at(-1)!.rssKb / 1024,
    rssSlopeMbPerMin: perMin,
    fdsStart,
    fdsEnd,
    ok: reasons.length === 0,
    reasons,
  };
}

/**
 * p99 of (first delivery − confirmed add) per one-second window of the add's time, over
 * `[from, to)`: window i holds the jobs whose `add` (outcome ok) came in `[from + i s, from + (i+1) s)`.
 * A delivery can be logged a little before the add's confirmation (the worker got the job before
 * the producer got the answer): such a latency counts as 0. `null`: no add in the window.
 * Adds made with a delay (their add-invoke says `delayMs`) are left out: they are due late.
 * `undelivered`: confirmed adds never delivered (the checker calls them lost after a drain).
 */
export function p99PerSecond(history: readonly HistoryEvent[], from: number, to: number): { p99: (number | null)[]; undelivered: number } {
  const firstDelivery = new Map<string, number>();
  // Adds made with a delay (faults/deployments.ts delays some on purpose) are due late: not latency.
  const delayed = new Set<string>();
  for (const e of history) {
    if (e.type === 'add-invoke' && e.delayMs) delayed.add(e.callerId);
    if (e.type !== 'delivered' || e.callerId === null) continue;
    const t = firstDelivery.get(e.callerId);
    if (t === undefined || e.at < t) firstDelivery.set(e.callerId, e.at);
  }
  const windows: number[][] = Array.from({ length: Math.max(0, Math.ceil((to - from) / 1000)) }, () => []);
  let undelivered = 0;
  for (const e of history) {
    if (e.type !== 'add' || e.outcome !== 'ok' || e.at < from || e.at >= to || delayed.has(e.callerId)) continue;
    const d = firstDelivery.get(e.callerId);
    if (d === undefined) {
      undelivered++;
      continue;
    }
    windows[Math.floor((e.at - from) / 1000)]!.push(Math.max(0, d - e.at));
  }
  return { p99: windows.map((w) => percentile(w, 99)), undelivered };
}

/**
 * Seconds (window indices) at least QUIET_AFTER_MS after every fault strike before them, and after
 * `from` itself (the first seconds are the deployment's warm-up, not its normal).
 */
export function quietWindows(count: number, from: number, strikes: readonly number[]): number[] {
  const quiet: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = from + i * 1000;
    if ([from, ...strikes].every((s) => s >= start + 1000 || start >= s + QUIET_AFTER_MS)) quiet.push(i);
  }
  return quiet;
}

/**
 * Normal is p99 ≤ max(1.5 × baseline, baseline + 50 ms). Both, because with a baseline of a few
 * tens of ms (brokers poll every 50 ms) 1.5× alone is within timer and scheduling jitter of a
 * loaded two-core machine, and +50 ms alone would be too loose for a baseline of seconds.
 */
export function normalBound(baselineMs: number): number {
  return Math.max(1.5 * baselineMs, baselineMs + 50);
}

/**
 * Time from `strike` (a fault's strike, or its end) to the start of the first second from which p99 is normal and stays
 * so for HOLD_MS (or until the next strike, or the end): that second must have adds, later seconds
 * without adds are skipped. Null: never back before the next strike (or the end).
 */
export function backToNormal(p99: readonly (number | null)[], from: number, strike: number, nextStrike: number | null, bound: number): number | null {
  const first = Math.max(0, Math.floor((strike - from) / 1000));
  const end = Math.min(p99.length, nextStrike === null ? p99.length : Math.ceil((nextStrike - from) / 1000));
  for (let s = first; s < end; s++) {
    const v = p99[s];
    if (v === null || v === undefined || v > bound) continue;
    const holdEnd = Math.min(end, s + Math.ceil(HOLD_MS / 1000));
    let stays = true;
    for (let k = s + 1; k < holdEnd && stays; k++) {
      const w = p99[k];
      if (w !== null && w !== undefined && w > bound) stays = false;
    }
    if (stays) return Math.max(0, from + s * 1000 - strike);
  }
  return null;
}

export interface LatencyVerdict {
  baselineMs: number | null;
  boundMs: number | null;
  /** Per fault: ms from its end back to normal (null: never). This is what is judged. */
  back: (number | null)[];
  /** Per fault: ms from its strike back to normal (null: never), the down time included. */
  backFromStrike: (number | null)[];
  /** Quiet seconds whose p99 was above the bound anyway: the jitter the bound has to live with. */
  quietAbove: number;
  quietSeconds: number;
  ok: boolean;
  reasons: string[];
}

/**
 * `faults`: when each struck, and when it ended (the killed process restarted and ready, the
 * stopped one continued). Back to normal is judged from the end: the down time is the runner's
 * choice and a process start is Node's, neither is the recovery being measured.
 */
export function latencyVerdict(p99: readonly (number | null)[], from: number, faults: readonly { at: number; endAt: number }[]): LatencyVerdict {
  const strikes = faults.map((f) => f.at);
  const quiet = quietWindows(p99.length, from, strikes).map((i) => p99[i]).filter((v): v is number => v !== null && v !== undefined);
  const baselineMs = median(quiet);
  if (baselineMs === null) return { baselineMs, boundMs: null, back: faults.map(() => null), backFromStrike: faults.map(() => null), quietAbove: 0, quietSeconds: 0, ok: false, reasons: ['no quiet second with adds: no baseline'] };
  const boundMs = normalBound(baselineMs);
  const back = faults.map((f, i) => backToNormal(p99, from, f.endAt, strikes[i + 1] ?? null, boundMs));
  const backFromStrike = faults.map((f, i) => backToNormal(p99, from, f.at, strikes[i + 1] ?? null, boundMs));
  const quietAbove = quiet.filter((v) => v > boundMs).length;
  const reasons: string[] = [];
  const late = back.map((b, i) => ({ b, i })).filter(({ b }) => b === null || b > BACK_BOUND_MS);
  if (late.length > 0) reasons.push(`${late.length} of ${faults.length} faults not back to normal within ${BACK_BOUND_MS} ms of their end: ${late.map(({ b, i }) => `#${i + 1} ${b === null ? 'never' : `${b} ms`}`).join(', ')}`);
  return { baselineMs, boundMs, back, backFromStrike, quietAbove, quietSeconds: quiet.length, ok: reasons.length === 0, reasons };
}
