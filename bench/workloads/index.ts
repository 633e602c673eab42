import type { RunKind } from './catalog.ts';
import { idleConnectionsRss } from './connections.ts';
import { drainBacklog, W3, W5 } from './drain.ts';
import { enqueueBulk, enqueueSingle } from './enqueue.ts';
import { addToStartLatency } from './latency.ts';
import { drainWithProcesses, endToEndMixed } from './multi-process.ts';
import type { RunContext, RunFigures } from './run-context.ts';

/**
 * One run of each kind, as a child process executes it.
 * @example
 * const figures = await RUNS['W5-1m'](ctx); // { 'W5-1m': 31_000, W6: 180.5 }
 */
export const RUNS: Record<RunKind, (ctx: RunContext) => Promise<RunFigures>> = {
  W1: (ctx) => enqueueSingle(ctx),
  W2: (ctx) => enqueueBulk(ctx),
  W3: async (ctx) => ({ W3: (await drainBacklog(ctx, W3.backlog, W3.concurrency)).jobsPerS }),
  'W3-2w': (ctx) => drainWithProcesses(ctx),
  W4: (ctx) => addToStartLatency(ctx),
  'W5-10k': async (ctx) => ({ 'W5-10k': (await drainBacklog(ctx, W5.smallBacklog, W5.concurrency)).jobsPerS }),
  'W5-1m': async (ctx) => {
    const r = await drainBacklog(ctx, W5.largeBacklog, W5.concurrency);
    return { 'W5-1m': r.jobsPerS, W6: r.peakRssMiB };
  },
  W7: (ctx) => endToEndMixed(ctx),
  C1000: (ctx) => idleConnectionsRss(ctx),
};

export type { RunContext, RunFigures, RunOptions } from './run-context.ts';
