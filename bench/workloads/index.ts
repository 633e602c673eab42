import type { RunKind } from './catalog.ts';
import { C1000, idleConnectionsRss } from './connections.ts';
import { drainBacklog, DRAIN_VARIANTS, W3, W5 } from './drain.ts';
import { enqueueBulk, enqueueSingle, W1, W2 } from './enqueue.ts';
import { publishTopic, TOPIC_RUN_SHAPES } from './topics.ts';
import { addToStartLatency, W4 } from './latency.ts';
import { withNoisyNeighbour } from './noisy.ts';
import { drainWithProcesses, endToEndMixed, W3_2W } from './multi-process.ts';
import { SQS_LOOP, sqsLoops } from './sqs.ts';
import type { RunContext, RunFigures, RunOptions } from './run-context.ts';

/** The scaling view's sizes between W5's two (W5-scale): drain rate and peak RSS at each. */
export const W5_SCALE = { mediumBacklog: 100_000, largerBacklog: 300_000 } as const;

/**
 * How much of each workload's job count a run does: 1 for the workload
 * definition, 1/50 with `--quick` (smoke runs: 1,000 single adds, 2,000 bulk,
 * 2,000-job drains, W5's sizes 200 … 20,000, W4 for 1 s, C1000 with 100
 * sessions), so that every run kind can be tried on any target in seconds.
 */
export function sizeFactor(options: Pick<RunOptions, 'quick'>): number {
  return options.quick ? 1 / 50 : 1;
}

/** `n` jobs scaled by the run's size factor (at least `min`). */
function sized(ctx: RunContext, n: number, min = 1): number {
  return Math.max(min, Math.round(n * sizeFactor(ctx.options)));
}

/** A W5 drain of `backlog` jobs: its rate and the broker's peak RSS, as the figures `rate` and `rss`. */
async function w5Drain(ctx: RunContext, backlog: number, rate: string, rss: string): Promise<RunFigures> {
  const r = await drainBacklog(ctx, sized(ctx, backlog), W5.concurrency);
  return { [rate]: r.jobsPerS, [rss]: r.peakRssMiB };
}

/** A W3 variant: W3 on a queue configured with a policy or a limit (drain.ts, DRAIN_VARIANTS). */
async function w3Variant(ctx: RunContext, id: keyof typeof DRAIN_VARIANTS): Promise<RunFigures> {
  return { [id]: (await drainBacklog(ctx, sized(ctx, W3.backlog), W3.concurrency, DRAIN_VARIANTS[id])).jobsPerS };
}

/**
 * One run of each kind, as a child process executes it.
 * @example
 * const figures = await RUNS['W5-1m'](ctx); // { 'W5-1m': 31_000, W6: 180.5 }
 */
export const RUNS: Record<RunKind, (ctx: RunContext) => Promise<RunFigures>> = {
  W1: (ctx) => enqueueSingle(ctx, sized(ctx, W1.jobs)),
  'W1-topic': (ctx) => publishTopic(ctx, 'W1-topic', sized(ctx, TOPIC_RUN_SHAPES['W1-topic'].publishes)),
  'W1-fanout10': (ctx) => publishTopic(ctx, 'W1-fanout10', sized(ctx, TOPIC_RUN_SHAPES['W1-fanout10'].publishes)),
  W2: (ctx) => enqueueBulk(ctx, sized(ctx, W2.jobs)),
  W3: async (ctx) => ({ W3: (await drainBacklog(ctx, sized(ctx, W3.backlog), W3.concurrency)).jobsPerS }),
  'W3-priority': (ctx) => w3Variant(ctx, 'W3-priority'),
  'W3-sjf': (ctx) => w3Variant(ctx, 'W3-sjf'),
  'W3-fair': (ctx) => w3Variant(ctx, 'W3-fair'),
  'W3-rate': (ctx) => w3Variant(ctx, 'W3-rate'),
  'W3-keyed': (ctx) => w3Variant(ctx, 'W3-keyed'),
  'W3-2w': (ctx) => drainWithProcesses(ctx, sized(ctx, W3_2W.backlog)),
  // W4 keeps its rate (1,000 jobs/s); --quick shortens the 10 s to 1 s.
  W4: (ctx) => addToStartLatency(ctx, W4.ratePerS, ctx.options.quick ? 1_000 : W4.durationMs),
  // W4 again, while a CPU-bound process spins on the same machine for the whole run (the target is set up already).
  'W4-noisy': (ctx) => withNoisyNeighbour(ctx.log, () => addToStartLatency(ctx, W4.ratePerS, ctx.options.quick ? 1_000 : W4.durationMs, W4.concurrency, 'W4-noisy')),
  'W5-10k': (ctx) => w5Drain(ctx, W5.smallBacklog, 'W5-10k', 'W6-10k'),
  'W5-100k': (ctx) => w5Drain(ctx, W5_SCALE.mediumBacklog, 'W5-100k', 'W6-100k'),
  'W5-300k': (ctx) => w5Drain(ctx, W5_SCALE.largerBacklog, 'W5-300k', 'W6-300k'),
  'W5-1m': (ctx) => w5Drain(ctx, W5.largeBacklog, 'W5-1m', 'W6'),
  W7: (ctx) => endToEndMixed(ctx),
  C1000: (ctx) => (ctx.options.quick ? idleConnectionsRss(ctx, 100, C1000.processes, 1_000) : idleConnectionsRss(ctx)),
  SQS: (ctx) => sqsLoops(ctx, sized(ctx, SQS_LOOP.messages, SQS_LOOP.loops * SQS_LOOP.batch)),
};

export type { ProgressFn, RunContext, RunFigures, RunOptions } from './run-context.ts';
