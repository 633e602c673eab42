/**
 * The workloads of the benchmark definition (WORKLOAD.md) as the runner sees them: which child runs
 * exist, which reported figures each run yields, and how `--workload` picks
 * them. A "run kind" is what one child process does once; a "figure" is one
 * entry of the JSON output. W5 and W6 share runs: W6 is the peak RSS of the
 * W5 runs with 1,000,000 queued.
 * @example
 * selectWorkloads('W3,W6'); // { runs: ['W3', 'W5-1m'], figures: ['W3', 'W6'] }
 */

/** What one child process runs once. */
export const RUN_KINDS = ['W1', 'W2', 'W3', 'W4', 'W5-10k', 'W5-1m'] as const;
/** One of {@link RUN_KINDS}. */
export type RunKind = (typeof RUN_KINDS)[number];

/** One figure of the report, in report order. */
export interface FigureSpec {
  id: string;
  unit: 'jobs/s' | 'ms' | 'MiB';
  /** The run kind that measures it. */
  run: RunKind;
  /** Decimal places kept in the report. */
  decimals: number;
}

/** Every figure of the report, in the order of the JSON output and the table. */
export const FIGURES: readonly FigureSpec[] = [
  { id: 'W1', unit: 'jobs/s', run: 'W1', decimals: 0 },
  { id: 'W2', unit: 'jobs/s', run: 'W2', decimals: 0 },
  { id: 'W3', unit: 'jobs/s', run: 'W3', decimals: 0 },
  { id: 'W4-p50', unit: 'ms', run: 'W4', decimals: 3 },
  { id: 'W4-p90', unit: 'ms', run: 'W4', decimals: 3 },
  { id: 'W4-p99', unit: 'ms', run: 'W4', decimals: 3 },
  { id: 'W4-max', unit: 'ms', run: 'W4', decimals: 3 },
  { id: 'W5-10k', unit: 'jobs/s', run: 'W5-10k', decimals: 0 },
  { id: 'W5-1m', unit: 'jobs/s', run: 'W5-1m', decimals: 0 },
  { id: 'W6', unit: 'MiB', run: 'W5-1m', decimals: 1 },
];

/** Workloads of the definition that the benchmark does not run yet (W7 needs multi-process targets). */
export const NOT_IMPLEMENTED_WORKLOADS: readonly string[] = ['W7', 'W7-p99'];

/** The workloads run when `--workload` is not given. */
export const DEFAULT_WORKLOADS = 'W1,W2,W3,W4,W5,W6';

/** What a `--workload` list asks for. */
export interface Selection {
  /** Run kinds to execute, in catalog order. */
  runs: RunKind[];
  /** Figure ids to report, in catalog order. */
  figures: string[];
  /** Requested workloads that exist but are not implemented yet. */
  skipped: string[];
}

/**
 * Parses a comma-separated `--workload` list. Accepts workload ids (`W4`, `W5`),
 * figure ids (`W4-p99`, `W5-1m`) and is case-insensitive.
 * @throws Error naming the unknown id.
 */
export function selectWorkloads(list: string): Selection {
  const figures = new Set<string>();
  const skipped: string[] = [];
  for (const raw of list.split(',')) {
    const token = raw.trim().toUpperCase();
    if (token === '') continue;
    if (NOT_IMPLEMENTED_WORKLOADS.some((w) => w.toUpperCase() === token)) {
      skipped.push(token);
      continue;
    }
    const exact = FIGURES.filter((f) => f.id.toUpperCase() === token);
    const family = FIGURES.filter((f) => f.id.toUpperCase().startsWith(`${token}-`));
    const matched = exact.length > 0 ? exact : family;
    if (matched.length === 0) {
      throw new Error(`unknown workload ${JSON.stringify(raw.trim())}: use W1–W6 (W7 is not implemented yet) or a figure id such as W4-p99 or W5-1m`);
    }
    for (const f of matched) figures.add(f.id);
  }
  const chosen = FIGURES.filter((f) => figures.has(f.id));
  const runs = RUN_KINDS.filter((k) => chosen.some((f) => f.run === k));
  return { runs, figures: chosen.map((f) => f.id), skipped };
}
