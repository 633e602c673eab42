/**
 * One workload run in a fresh process, so that the heap and resident set of
 * one run never carry into the next. The runner (run.ts) starts it as
 *
 *   node bench/child.ts <target> <run-kind> <data-dir> <options-json>
 *
 * (options: RunOptions, e.g. the PostgreSQL server) and reads exactly one JSON
 * line from stdout: `{ "durability": "...", "figures": { "W3": 41234 } }`, plus
 * `"histograms": { "W4": "<HdrHistogram compressed base64>" }` for the latency
 * runs (W4, W4-noisy, W7), which the runner merges over the runs.
 * When the runner shows a progress bar (options.progress), it starts the child
 * with an IPC channel, and the child sends `{ type: 'progress', phase, done, total }`
 * a few times a second.
 * Multi-process runs (W3-2w, W7; for spool-server also W4 and C1000) start their
 * extra processes from here; the spool-server target starts its broker process.
 * Progress goes to stderr. Exit code 1 with a message on stderr when the run fails.
 */
import type { TargetContext } from './target.ts';
import { createTarget, isTargetId } from './targets/index.ts';
import { RUN_KINDS, type RunKind } from './workloads/catalog.ts';
import type { LatencyHistogram } from './report/histogram.ts';
import { RUNS, type ProgressFn, type RunOptions } from './workloads/index.ts';

/** The line a child prints on success. */
export interface ChildResult {
  durability: string;
  figures: Record<string, number>;
  /** Latency histograms of the run (`W4`, `W4-noisy`, `W7`), HdrHistogram's compressed base64 encoding. */
  histograms?: Record<string, string>;
}

/** What a child sends the runner over IPC while it runs. */
export interface ChildProgress {
  type: 'progress';
  phase: string;
  done: number;
  total: number;
}

/** How often at most a child passes progress on (a phase's end always goes). */
const PROGRESS_INTERVAL_MS = 200;

/** A {@link ProgressFn} that sends the runner at most one update per 200 ms over IPC. */
function progressOverIpc(): ProgressFn {
  let lastAt = -Infinity;
  let lastPhase = '';
  return (phase, done, total) => {
    const now = performance.now();
    if (phase === lastPhase && done < total && now - lastAt < PROGRESS_INTERVAL_MS) return;
    lastAt = now;
    lastPhase = phase;
    const message: ChildProgress = { type: 'progress', phase, done, total };
    if (process.connected) process.send!(message);
  };
}

async function main(argv: string[]): Promise<ChildResult> {
  const [targetId, runKind, dataDir, optionsJson] = argv;
  if (argv.length !== 4 || !targetId || !isTargetId(targetId) || !RUN_KINDS.includes(runKind as RunKind) || !dataDir || !optionsJson) {
    throw new Error(`usage: node bench/child.ts <target> <${RUN_KINDS.join('|')}> <data-dir> <options-json> (got ${JSON.stringify(argv)})`);
  }
  const options = JSON.parse(optionsJson) as RunOptions;
  const targetContext: TargetContext = {
    dataDir,
    postgresUrl: options.postgresUrl,
    brokerCpuProf: options.cpuProfDir ? { dir: options.cpuProfDir, name: `${options.runLabel}-broker.cpuprofile` } : null,
  };
  const target = createTarget(targetId, targetContext);
  const log = (message: string): void => void process.stderr.write(`  [${targetId} ${runKind}] ${message}\n`);
  // The IPC channel must not keep the child alive.
  process.channel?.unref();
  const progress = options.progress && process.send ? progressOverIpc() : undefined;
  const histograms: Record<string, string> = {};
  const keepHistogram = (id: string, histogram: LatencyHistogram): void => void (histograms[id] = histogram.encode());
  try {
    progress?.('setup', 0, 1);
    await target.setup();
    const figures = await RUNS[runKind as RunKind]({ target, targetId, targetContext, options, log, keepHistogram, ...(progress ? { progress } : {}) });
    return { durability: target.durability(), figures, ...(Object.keys(histograms).length > 0 ? { histograms } : {}) };
  } finally {
    await target.teardown();
  }
}

// Only when run as a script: run.ts imports the ChildResult type from here.
if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
    },
    (err: unknown) => {
      process.stderr.write(`bench child failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
