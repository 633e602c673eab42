/**
 * What queueing theory expects of the simulation's trace (bench/scheduling/trace.ts) on one
 * server (M^X/G/1: Poisson single arrivals plus Poisson floods of a fixed size, service times
 * hyperexponential). Every figure is a mean wait (arrival → start) in ms.
 *
 * - FCFS, exact: the mean work found by an arrival is E[V] = Σ λ_e E[X²] / 2(1 − ρ) over the
 *   arrival events (a single job X = S; a flood X = the sum of its B jobs), Pollaczek–Khinchine
 *   extended to batches; a flood job also waits for the (B − 1) / 2 jobs of its flood ahead of it.
 * - Conservation law (Kleinrock): any non-preemptive order that does not look at service
 *   times (`fifo` with priorities, `priority` with aging, `fair`) has the same mean wait over
 *   all jobs as FCFS. Only `sjf` can lower it.
 * - Strict priorities (`fifo` with three levels): Cobham's non-preemptive priority formula
 *   W_k = W₀ / (1 − σ_{k−1})(1 − σ_k), σ_k the load of level k and above. W₀ is the mean residual
 *   work of the single-server M/G/1 (W_FCFS · (1 − ρ)); with the floods' batches this is an
 *   approximation that keeps the conservation law exact.
 * - Shortest job first: Phipps' formula W(x) = W₀ / (1 − ρ(x))², ρ(x) the load of jobs shorter
 *   than x, for a job of size x; averaged over each size class. It is the mean of pure SJF
 *   (the `sjf` policy with an unbounded cost factor); with a finite factor the measured mean
 *   lies between it and FCFS.
 * - Aging: a job of level p is overtaken only by jobs that arrive within (P − p) · agingMs after
 *   it, so its wait is at most the FCFS wait plus the work that arrives in that window:
 *   mean ≤ W_FCFS + ρ · (P − p) · agingMs.
 * - Fair share: a small tenant's job is started within about n (1 + W / w) dispatches (n its
 *   jobs waiting, w its weight, W the others' weights); with n = 1 in time, about the residual
 *   of the job in service (ρ E[S²] / 2E[S]) plus one job of each other group (E[S] each).
 */
import { arrivalRates, serviceMoments, type TraceJob, type TraceSpec } from './trace.ts';

/**
 * What the formulas take: arrival rates (per ms), service moments (ms, ms²), the two size
 * classes (exponential, with their shares and means), the priority shares and the groups.
 */
export interface Moments {
  workers: number;
  singlesPerMs: number;
  floodsPerMs: number;
  floodSize: number;
  m1: number;
  m2: number;
  short: { share: number; mean: number };
  long: { share: number; mean: number };
  /** Share of the jobs at priority 0, 1 and 2. */
  priorityShares: readonly [number, number, number];
  /** Share of all jobs that arrive in floods. */
  floodShare: number;
  groups: number;
}

/** The moments the trace is drawn from. */
export function specMoments(spec: TraceSpec): Moments {
  const rates = arrivalRates(spec);
  return {
    workers: spec.workers,
    singlesPerMs: rates.singles,
    floodsPerMs: rates.floods,
    floodSize: spec.floodSize,
    ...serviceMoments(spec),
    short: { share: spec.shortShare, mean: spec.shortMeanMs },
    long: { share: 1 - spec.shortShare, mean: spec.longMeanMs },
    priorityShares: spec.priorityShares,
    floodShare: spec.floodShare,
    groups: spec.tenants.length,
  };
}

/**
 * The moments of a drawn trace (its own arrival rates, service moments and shares): the
 * expectations for the sample that was replayed rather than for the distribution it came from.
 */
export function traceMoments(trace: readonly TraceJob[], spec: TraceSpec): Moments {
  const spanMs = trace[trace.length - 1]!.arrivalMs;
  const n = trace.length;
  const mean = (jobs: readonly TraceJob[]): number => jobs.reduce((s, j) => s + j.serviceMs, 0) / jobs.length;
  const shorts = trace.filter((j) => j.size === 'short');
  const longs = trace.filter((j) => j.size === 'long');
  const floodJobs = trace.filter((j) => j.flood !== null);
  const floods = new Set(floodJobs.map((j) => j.flood)).size;
  const share = (p: number): number => trace.filter((j) => j.priority === p).length / n;
  return {
    workers: spec.workers,
    singlesPerMs: (n - floodJobs.length) / spanMs,
    floodsPerMs: floods / spanMs,
    floodSize: spec.floodSize,
    m1: mean(trace),
    m2: trace.reduce((s, j) => s + j.serviceMs ** 2, 0) / n,
    short: { share: shorts.length / n, mean: mean(shorts) },
    long: { share: longs.length / n, mean: mean(longs) },
    priorityShares: [share(0), share(1), share(2)],
    floodShare: floodJobs.length / n,
    groups: new Set(trace.map((j) => j.tenant)).size || spec.tenants.length,
  };
}

/** The expectations the report prints beside its measurements. */
export interface Theory {
  rho: number;
  /** FCFS mean wait over all jobs (exact). */
  fcfs: number;
  /** FCFS mean wait of a single arrival, and of a flood job. */
  fcfsSingle: number;
  fcfsFlood: number;
  /** Cobham: strict priority mean wait per level (index = priority). */
  cobham: [number, number, number];
  /** Phipps: pure SJF mean wait, per size class and over all jobs. */
  sjf: { short: number; long: number; all: number };
  /** Bound on the mean wait of each level under aging (index = priority). */
  agingBound: [number, number, number];
  /** Fair share: expected wait of a small tenant's job (one of its own waiting), in ms. */
  fairSmall: number;
  /** Fair share: the dispatch bound's factor 1 + W / w for a small tenant. */
  fairFactor: number;
}

/**
 * Computes the expectations for `spec` on one server.
 * @throws Error when `spec.workers` is not 1: the formulas are single-server ones.
 */
export function expectations(m: Moments, agingMs: number): Theory {
  if (m.workers !== 1) throw new Error(`the expectations are single-server (M^X/G/1) formulas; the trace has ${m.workers} workers`);
  const { m1, m2 } = m;
  const jobsPerMs = m.singlesPerMs + m.floodsPerMs * m.floodSize;
  const rho = jobsPerMs * m1;
  const B = m.floodSize;
  const floodX2 = B * m2 + B * (B - 1) * m1 * m1;
  const fcfsSingle = (m.singlesPerMs * m2 + m.floodsPerMs * floodX2) / (2 * (1 - rho));
  const withinFlood = ((B - 1) / 2) * m1;
  const fcfs = fcfsSingle + m.floodShare * withinFlood;
  const w0 = fcfs * (1 - rho);

  const [p0, p1, p2] = m.priorityShares;
  const sigma = [rho * (p0 + p1 + p2), rho * (p1 + p2), rho * p2, 0]; // σ_k: load of level k and above
  const cobham = [0, 1, 2].map((k) => w0 / ((1 - sigma[k + 1]!) * (1 - sigma[k]!))) as [number, number, number];
  const agingBound = [0, 1, 2].map((p) => fcfs + rho * (2 - p) * agingMs) as [number, number, number];

  const sjf = phipps(m, jobsPerMs, w0);
  const groups = m.groups;
  const fairSmall = (rho * m2) / (2 * m1) + (groups - 1) * m1;
  return { rho, fcfs, fcfsSingle, fcfsFlood: fcfsSingle + withinFlood, cobham, sjf, agingBound, fairSmall, fairFactor: groups };
}

/** Phipps' SJF mean waits for the hyperexponential service, by numerical integration. */
function phipps(m: Moments, lambda: number, w0: number): { short: number; long: number; all: number } {
  const classes = [
    { p: m.short.share, mean: m.short.mean },
    { p: m.long.share, mean: m.long.mean },
  ];
  // ρ(x) = λ ∫₀ˣ t f(t) dt; for an exponential of mean a: a (1 − e^{−x/a} (1 + x/a)).
  const rhoBelow = (x: number): number => lambda * classes.reduce((s, c) => s + c.p * c.mean * (1 - Math.exp(-x / c.mean) * (1 + x / c.mean)), 0);
  const classMean = (mean: number): number => {
    const top = 40 * mean;
    const steps = 4000; // Simpson's rule over [0, 40 means]: the density beyond is e^-40
    const h = top / steps;
    let sum = 0;
    for (let k = 0; k <= steps; k++) {
      const x = k * h;
      const f = Math.exp(-x / mean) / mean;
      const weight = k === 0 || k === steps ? 1 : k % 2 === 1 ? 4 : 2;
      sum += weight * f * (w0 / (1 - rhoBelow(x)) ** 2);
    }
    return (sum * h) / 3;
  };
  const short = classMean(m.short.mean);
  const long = classMean(m.long.mean);
  return { short, long, all: m.short.share * short + m.long.share * long };
}
