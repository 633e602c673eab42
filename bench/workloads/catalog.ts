/**
 * The workloads of the benchmark definition (docs/benchmarks.md, "The workload") as the runner sees them: which child runs
 * exist, which reported figures each run yields, and how `--workload` picks
 * them. A "run kind" is what one child process does once; a "figure" is one
 * entry of the JSON output. W5 and W6 share runs: W6 is the peak RSS of the
 * W5 runs with 1,000,000 queued. W7 and W3-2w need several processes sharing
 * one store: only targets that support that run them (see targets/index.ts).
 * C1000 (not one of the standard workloads) is the broker's memory with 1,000 idle client
 * connections: only broker targets (spool-server) run it. SQS (not one of them either, and not
 * in the default selection) is the SQS endpoint's produce–consume loop through the AWS SDK beside
 * the same loop through the WebSocket client (workloads/sqs.ts): broker targets only.
 * W5-scale (not in the default selection: it adds two long runs per target) is
 * the scaling view of W5 and W6: the drain rate and the peak RSS at backlogs of
 * 10,000, 100,000, 300,000 and 1,000,000. Its ends are W5-10k / W5-1m and W6;
 * it adds the runs W5-100k and W5-300k, and the RSS of every size (W6-10k,
 * W6-100k, W6-300k; W6 is the 1,000,000 one).
 * The W3 variants (W3-priority, W3-sjf, W3-fair, W3-rate, W3-keyed; `--workload W3-policies`
 * selects them with W3) are W3 on a queue configured with a scheduling policy, or a rate limit
 * or a per-key concurrency limit that does not bind: what the feature costs the drain, as a ratio to W3 in the same run. They
 * need Spool's queue settings: only the Spool targets run them.
 * W4-noisy is W4 while a CPU-bound process spins on the same machine (workloads/noisy.ts): every
 * target runs it, its figures W4-noisy-p50 … W4-noisy-max. W7's producers add at a fixed rate, 70 %
 * of the same target's W3 in the same bench (or `--w7-rate`), reported as the figure W7-rate.
 * @example
 * selectWorkloads('W3,W6'); // { runs: ['W3', 'W5-1m'], figures: ['W3', 'W6'] }
 */

/** What one child process runs once. */
export const RUN_KINDS = [
  'W1', 'W1-topic', 'W1-fanout10', 'W2', 'W3', 'W3-priority', 'W3-sjf', 'W3-fair', 'W3-rate', 'W3-keyed', 'W3-2w', 'W4', 'W4-noisy', 'W5-10k', 'W5-100k', 'W5-300k', 'W5-1m', 'W7', 'C1000', 'SQS',
] as const;
/** One of {@link RUN_KINDS}. */
export type RunKind = (typeof RUN_KINDS)[number];

/** Run kinds that start several processes on one shared store. */
export const MULTI_PROCESS_RUNS: readonly RunKind[] = ['W3-2w', 'W7'];

/** Run kinds that measure a broker process and its client connections: only broker targets run them. */
export const BROKER_RUNS: readonly RunKind[] = ['C1000', 'SQS'];

/**
 * The W3 variants: run kinds that configure Spool's queue settings (a policy, a rate limit, a
 * per-key concurrency limit) before the backlog is filled, each with the share of W3 it must
 * keep (issue 15: policies ≥ 80 %, a limit that does not bind ≥ 90 %). Only targets with queue
 * settings run them.
 */
export const QUEUE_SETTING_RUNS: readonly { run: RunKind; bar: number }[] = [
  { run: 'W3-priority', bar: 0.8 },
  { run: 'W3-sjf', bar: 0.8 },
  { run: 'W3-fair', bar: 0.8 },
  { run: 'W3-rate', bar: 0.9 },
  { run: 'W3-keyed', bar: 0.9 },
];

/**
 * The W1 topic runs: W1 with `publish` to a topic bound to one queue, and to ten (a tenth as
 * many publishes: as many jobs), each with the share of W1's jobs/s it must keep, counting
 * every copy (topics issue: one queue ≥ 80 %, ten ≥ 50 %). `--workload W1-topics` selects them
 * with W1. Only targets with topics (Spool's) run them.
 */
export const TOPIC_RUNS: readonly { run: RunKind; bar: number }[] = [
  { run: 'W1-topic', bar: 0.8 },
  { run: 'W1-fanout10', bar: 0.5 },
];

/** One figure of the report, in report order. */
export interface FigureSpec {
  id: string;
  /** The workload it belongs to: `--workload W7` selects W7 and W7-p99. */
  workload: string;
  /** Further workload ids that select it: `--workload W5-scale` selects W5-10k too. */
  alsoIn?: readonly string[];
  unit: 'jobs/s' | 'ms' | 'MiB';
  /** The run kind that measures it. */
  run: RunKind;
  /** Decimal places kept in the report. */
  decimals: number;
}

/** Every figure of the report, in the order of the JSON output and the table. */
export const FIGURES: readonly FigureSpec[] = [
  { id: 'W1', workload: 'W1', alsoIn: ['W1-topics'], unit: 'jobs/s', run: 'W1', decimals: 0 },
  { id: 'W1-topic', workload: 'W1-topic', alsoIn: ['W1-topics'], unit: 'jobs/s', run: 'W1-topic', decimals: 0 },
  { id: 'W1-fanout10', workload: 'W1-fanout10', alsoIn: ['W1-topics'], unit: 'jobs/s', run: 'W1-fanout10', decimals: 0 },
  { id: 'W2', workload: 'W2', unit: 'jobs/s', run: 'W2', decimals: 0 },
  { id: 'W3', workload: 'W3', alsoIn: ['W3-policies'], unit: 'jobs/s', run: 'W3', decimals: 0 },
  { id: 'W3-priority', workload: 'W3-priority', alsoIn: ['W3-policies'], unit: 'jobs/s', run: 'W3-priority', decimals: 0 },
  { id: 'W3-sjf', workload: 'W3-sjf', alsoIn: ['W3-policies'], unit: 'jobs/s', run: 'W3-sjf', decimals: 0 },
  { id: 'W3-fair', workload: 'W3-fair', alsoIn: ['W3-policies'], unit: 'jobs/s', run: 'W3-fair', decimals: 0 },
  { id: 'W3-rate', workload: 'W3-rate', alsoIn: ['W3-policies'], unit: 'jobs/s', run: 'W3-rate', decimals: 0 },
  { id: 'W3-keyed', workload: 'W3-keyed', alsoIn: ['W3-policies'], unit: 'jobs/s', run: 'W3-keyed', decimals: 0 },
  { id: 'W3-2w', workload: 'W3-2w', unit: 'jobs/s', run: 'W3-2w', decimals: 0 },
  { id: 'W4-p50', workload: 'W4', unit: 'ms', run: 'W4', decimals: 3 },
  { id: 'W4-p90', workload: 'W4', unit: 'ms', run: 'W4', decimals: 3 },
  { id: 'W4-p99', workload: 'W4', unit: 'ms', run: 'W4', decimals: 3 },
  { id: 'W4-max', workload: 'W4', unit: 'ms', run: 'W4', decimals: 3 },
  { id: 'W4-noisy-p50', workload: 'W4-noisy', unit: 'ms', run: 'W4-noisy', decimals: 3 },
  { id: 'W4-noisy-p90', workload: 'W4-noisy', unit: 'ms', run: 'W4-noisy', decimals: 3 },
  { id: 'W4-noisy-p99', workload: 'W4-noisy', unit: 'ms', run: 'W4-noisy', decimals: 3 },
  { id: 'W4-noisy-max', workload: 'W4-noisy', unit: 'ms', run: 'W4-noisy', decimals: 3 },
  { id: 'W5-10k', workload: 'W5', alsoIn: ['W5-scale'], unit: 'jobs/s', run: 'W5-10k', decimals: 0 },
  { id: 'W5-100k', workload: 'W5-scale', unit: 'jobs/s', run: 'W5-100k', decimals: 0 },
  { id: 'W5-300k', workload: 'W5-scale', unit: 'jobs/s', run: 'W5-300k', decimals: 0 },
  { id: 'W5-1m', workload: 'W5', alsoIn: ['W5-scale'], unit: 'jobs/s', run: 'W5-1m', decimals: 0 },
  { id: 'W6-10k', workload: 'W5-scale', unit: 'MiB', run: 'W5-10k', decimals: 1 },
  { id: 'W6-100k', workload: 'W5-scale', unit: 'MiB', run: 'W5-100k', decimals: 1 },
  { id: 'W6-300k', workload: 'W5-scale', unit: 'MiB', run: 'W5-300k', decimals: 1 },
  { id: 'W6', workload: 'W6', alsoIn: ['W5-scale'], unit: 'MiB', run: 'W5-1m', decimals: 1 },
  { id: 'W7', workload: 'W7', unit: 'jobs/s', run: 'W7', decimals: 0 },
  { id: 'W7-p99', workload: 'W7', unit: 'ms', run: 'W7', decimals: 1 },
  // Not measured: the rate W7's producers offered (70 % of the target's W3, or --w7-rate), reported beside its figures.
  { id: 'W7-rate', workload: 'W7', unit: 'jobs/s', run: 'W7', decimals: 0 },
  { id: 'C1000-rss', workload: 'C1000', unit: 'MiB', run: 'C1000', decimals: 1 },
  { id: 'SQS-sdk', workload: 'SQS', unit: 'jobs/s', run: 'SQS', decimals: 0 },
  { id: 'SQS-ws', workload: 'SQS', unit: 'jobs/s', run: 'SQS', decimals: 0 },
];

/** The workloads run when `--workload` is not given. */
export const DEFAULT_WORKLOADS = 'W1,W1-topics,W2,W3,W3-policies,W3-2w,W4,W4-noisy,W5,W6,W7,C1000';

/** What a `--workload` list asks for. */
export interface Selection {
  /** Run kinds to execute, in catalog order. */
  runs: RunKind[];
  /** Figure ids to report, in catalog order. */
  figures: string[];
}

/**
 * The backlog sizes of the scaling view, with the figures measured at each: the
 * drain rate (jobs/s) and the broker's peak RSS (MiB).
 */
export const SCALE_POINTS: readonly { backlog: number; rate: string; rss: string }[] = [
  { backlog: 10_000, rate: 'W5-10k', rss: 'W6-10k' },
  { backlog: 100_000, rate: 'W5-100k', rss: 'W6-100k' },
  { backlog: 300_000, rate: 'W5-300k', rss: 'W6-300k' },
  { backlog: 1_000_000, rate: 'W5-1m', rss: 'W6' },
];

/**
 * Parses a comma-separated `--workload` list. Accepts workload ids (`W4`, `W5`, `W7`, `C1000`,
 * `W5-scale`), figure ids (`W4-p99`, `W5-1m`, `W7-p99`, `C1000-rss`, `W6-100k`) and is case-insensitive.
 * @throws Error naming the unknown id.
 */
export function selectWorkloads(list: string): Selection {
  const figures = new Set<string>();
  for (const raw of list.split(',')) {
    const token = raw.trim().toUpperCase();
    if (token === '') continue;
    const exact = FIGURES.filter((f) => f.id.toUpperCase() === token);
    const family = FIGURES.filter((f) => [f.workload, ...(f.alsoIn ?? [])].some((w) => w.toUpperCase() === token));
    const matched = family.length > 0 ? family : exact;
    if (matched.length === 0) {
      throw new Error(`unknown workload ${JSON.stringify(raw.trim())}: use W1–W7, W1-topics (W1-topic, W1-fanout10), W3-2w, W4-noisy, W3-policies (W3-priority, W3-sjf, W3-fair, W3-rate, W3-keyed), C1000, W5-scale, or a figure id such as W4-p99, W5-1m, W7-p99 or C1000-rss`);
    }
    for (const f of matched) figures.add(f.id);
  }
  const chosen = FIGURES.filter((f) => figures.has(f.id));
  const runs = RUN_KINDS.filter((k) => chosen.some((f) => f.run === k));
  return { runs, figures: chosen.map((f) => f.id) };
}

/** The figures of `selection` that a target measures, given the run kinds it supports. */
export function figuresFor(selection: Selection, supports: (run: RunKind) => boolean): string[] {
  return selection.figures.filter((id) => supports(FIGURES.find((f) => f.id === id)!.run));
}
