/**
 * Replays a trace through the real engine under one scheduling policy. Time is a
 * ManualClock: the script only plays time (adds at arrival times, `workers` pull workers
 * that claim when free and ack after each job's service time); every ordering decision is
 * the engine's (`Spool.claim` on an in-memory SQLite store).
 */
import { ManualClock } from '../../src/core/clock.ts';
import { Spool, type QueueConfigInput } from '../../src/index.ts';
import type { TraceJob } from './trace.ts';

/** The policies the report compares, with their queue settings. */
export type PolicyName = 'fifo' | 'priority' | 'sjf' | 'fair';

/** Settings shared by every run of the report: the aging step and the SJF cost factor. */
export interface PolicySettings {
  agingMs: number;
  sjfCostFactor: number;
}

/** The queue settings of each policy. */
export function queueSettings(policy: PolicyName, settings: PolicySettings): QueueConfigInput {
  switch (policy) {
    case 'fifo':
      return { policy: 'fifo' };
    case 'priority':
      return { policy: 'priority', agingMs: settings.agingMs };
    case 'sjf':
      return { policy: 'sjf', sjfCostFactor: settings.sjfCostFactor };
    case 'fair':
      return { policy: 'fair' };
  }
}

/** When one job started, and how many jobs had started before it. */
export interface Start {
  startMs: number;
  /** Its place in the order of starts (0 for the first job started). */
  dispatch: number;
}

const QUEUE = 'sim';
/** Longer than any job of the trace: a lease never expires during its simulated service. */
const LEASE_MS = 12 * 60 * 60 * 1000;

/**
 * Runs the trace with `workers` workers under `policy`; returns each job's start, by trace index.
 * @example
 * const starts = await replay(makeTrace(REPORT_TRACE), 'sjf', 1, { agingMs: 20_000, sjfCostFactor: 10 });
 */
export async function replay(trace: readonly TraceJob[], policy: PolicyName, workers: number, settings: PolicySettings): Promise<Start[]> {
  const origin = Date.parse('2026-01-01T00:00:00Z');
  const clock = new ManualClock(origin);
  // No maintenance: nothing expires, and the clock only fires the timers the replay needs.
  const spool = await Spool.open({ store: 'memory', clock, maintenance: false });
  try {
    await spool.queue(QUEUE).configure({ ...queueSettings(policy, settings), visibilityTimeoutMs: LEASE_MS });
    const starts: Start[] = new Array(trace.length);
    /** Running jobs: their lease and when their service ends (simulated ms). */
    let running: { lease: { jobId: string; token: number }; endMs: number }[] = [];
    let next = 0;
    let dispatched = 0;
    while (next < trace.length || running.length > 0) {
      const arrival = next < trace.length ? trace[next]!.arrivalMs : Infinity;
      const completion = running.reduce((m, r) => Math.min(m, r.endMs), Infinity);
      const now = Math.min(arrival, completion);
      await clock.advance(origin + now - clock.now());
      // Completions first, then arrivals, then the free workers claim: all at the same instant.
      const done = running.filter((r) => r.endMs === now);
      running = running.filter((r) => r.endMs !== now);
      for (const r of done) await spool.ack(r.lease);
      const batch: TraceJob[] = [];
      while (next < trace.length && trace[next]!.arrivalMs === now) batch.push(trace[next++]!);
      if (batch.length > 0) {
        await spool.addMany(QUEUE, batch.map((j) => ({ payload: { i: j.i }, priority: j.priority, cost: j.serviceMs, group: j.tenant })));
      }
      const free = workers - running.length;
      if (free > 0) {
        const jobs = await spool.claim(QUEUE, free);
        for (const job of jobs) {
          const { i } = job.payload as { i: number };
          starts[i] = { startMs: now, dispatch: dispatched++ };
          running.push({ lease: { jobId: job.id, token: job.leaseToken }, endMs: now + trace[i]!.serviceMs });
        }
      }
    }
    const [stats] = await spool.stats(QUEUE);
    if (stats!.counts.completed !== trace.length) throw new Error(`replay under ${policy}: ${stats!.counts.completed} of ${trace.length} jobs completed`);
    return starts;
  } finally {
    await spool.close();
  }
}
