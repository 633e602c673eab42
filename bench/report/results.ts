/**
 * What one benchmark run produced, as the report renders it: the JSON entries
 * of docs/benchmarks.md, the merged latency histograms, the runs that failed, and how
 * and where it was measured. `--write-docs` saves it as docs/bench/results.json
 * beside the charts, and `--from` renders the docs again from such a file.
 */
import type { MachineInfo } from './machine.ts';

/** One entry of the machine-readable report (`--json`), exactly as docs/benchmarks.md defines it. */
export interface ReportEntry {
  target: string;
  workload: string;
  value: number;
  min: number;
  max: number;
  unit: string;
  durability: string;
}

/** A run (target, run kind) that failed: its figures are missing from the entries. */
export interface RunFailure {
  target: string;
  run: string;
  message: string;
}

/** Everything a report is rendered from. */
export interface BenchResults {
  /** When the measurement ended, ISO 8601 (UTC). */
  date: string;
  /** The command as typed, e.g. `npm run bench:peers -- --write-docs`. */
  command: string;
  /** The commit measured (`git rev-parse --short HEAD`, `+dirty` with uncommitted changes), or null outside git. */
  commit: string | null;
  machine: MachineInfo;
  /** Runs per figure (the median is over them). */
  runs: number;
  /** Smoke-run sizes (`--quick`): not figures to publish. */
  quick: boolean;
  entries: ReportEntry[];
  /** Latency histograms merged over all runs, by target then id (`W4`, `W4-noisy`, `W7`): HdrHistogram compressed base64. */
  histograms: Record<string, Record<string, string>>;
  failures: RunFailure[];
}
