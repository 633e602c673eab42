/**
 * The arrival trace of the scheduling simulation (docs/scheduling.md, "Simulation report"):
 * one seeded list of jobs, each with its arrival time, service time, priority and tenant,
 * replayed unchanged under every policy.
 *
 * Arrivals are compound Poisson: single jobs at rate λ₁ from every tenant, and floods of
 * `floodSize` jobs added at once by the noisy tenant at rate λ_f. Service times are
 * hyperexponential: short jobs (exponential, mean `shortMeanMs`) with probability
 * `shortShare`, long ones (exponential, mean `longMeanMs`) otherwise. Priorities and sizes are
 * drawn independently of everything else, flood jobs included.
 */

/** What the trace is drawn from. Times in ms of simulated time. */
export interface TraceSpec {
  seed: number;
  /** Jobs in the trace (floods included). */
  jobs: number;
  /** Offered load of the `workers` servers, floods included: λ · E[S] / workers. */
  load: number;
  workers: number;
  shortMeanMs: number;
  longMeanMs: number;
  /** Probability that a job is short. */
  shortShare: number;
  /** Probability of priority 0 (low), 1 and 2 (high), in that order. */
  priorityShares: readonly [number, number, number];
  /** Share of all jobs that arrive in the noisy tenant's floods. */
  floodShare: number;
  /** Jobs per flood, added in one `addMany`. */
  floodSize: number;
  /** The single arrivals' tenants: the noisy one first, then the small ones, with their shares. */
  tenants: readonly { name: string; share: number }[];
}

/** The trace of the published report. */
export const REPORT_TRACE: TraceSpec = {
  seed: 15,
  jobs: 50_000,
  load: 0.85,
  workers: 1,
  shortMeanMs: 1_000,
  longMeanMs: 10_000,
  shortShare: 0.8,
  priorityShares: [0.5, 0.3, 0.2],
  floodShare: 0.05,
  floodSize: 50,
  tenants: [
    { name: 'noisy', share: 0.5 },
    { name: 'small-1', share: 0.125 },
    { name: 'small-2', share: 0.125 },
    { name: 'small-3', share: 0.125 },
    { name: 'small-4', share: 0.125 },
  ],
};

/** The tenant whose floods the trace carries. */
export const NOISY_TENANT = 'noisy';

/** One job of the trace. */
export interface TraceJob {
  /** Its index in the trace: arrival order (within a flood, the order of the `addMany`). */
  i: number;
  arrivalMs: number;
  serviceMs: number;
  size: 'short' | 'long';
  priority: 0 | 1 | 2;
  tenant: string;
  /** The flood it came in (its index), or null for a single arrival. */
  flood: number | null;
}

/** A small, fast, seeded generator (mulberry32): the same seed gives the same trace everywhere. */
export const seededRandom = prng;

/** E[S] and E[S²] of the service time. */
export function serviceMoments(spec: TraceSpec): { m1: number; m2: number } {
  const { shortShare: p, shortMeanMs: a, longMeanMs: b } = spec;
  return { m1: p * a + (1 - p) * b, m2: 2 * (p * a * a + (1 - p) * b * b) };
}

/** Arrival rates per ms: all jobs, single arrivals, flood events. */
export function arrivalRates(spec: TraceSpec): { jobs: number; singles: number; floods: number } {
  const jobs = (spec.load * spec.workers) / serviceMoments(spec).m1;
  return { jobs, singles: jobs * (1 - spec.floodShare), floods: (jobs * spec.floodShare) / spec.floodSize };
}

/**
 * Draws the trace. Arrival times are whole ms (the engine's resolution); jobs of one flood
 * share theirs.
 */
export function makeTrace(spec: TraceSpec): TraceJob[] {
  const random = seededRandom(spec.seed);
  const exp = (mean: number): number => -mean * Math.log(1 - random());
  const rates = arrivalRates(spec);
  const eventRate = rates.singles + rates.floods;
  const pick = <T>(items: readonly T[], share: (t: T) => number): T => {
    let u = random();
    for (const item of items) if ((u -= share(item)) < 0) return item;
    return items[items.length - 1]!;
  };
  const jobs: TraceJob[] = [];
  let t = 0;
  let floods = 0;
  const push = (arrivalMs: number, tenant: string, flood: number | null): void => {
    const short = random() < spec.shortShare;
    const serviceMs = Math.max(1, Math.round(exp(short ? spec.shortMeanMs : spec.longMeanMs)));
    const priority = pick([0, 1, 2] as const, (p) => spec.priorityShares[p]);
    jobs.push({ i: jobs.length, arrivalMs, serviceMs, size: short ? 'short' : 'long', priority, tenant, flood });
  };
  while (jobs.length < spec.jobs) {
    t += exp(1 / eventRate);
    const at = Math.round(t);
    if (random() < rates.floods / eventRate) {
      const n = Math.min(spec.floodSize, spec.jobs - jobs.length);
      for (let k = 0; k < n; k++) push(at, NOISY_TENANT, floods);
      floods++;
    } else {
      push(at, pick(spec.tenants, (x) => x.share).name, null);
    }
  }
  return jobs;
}import { prng } from '../../faults/schedules/random.ts';

