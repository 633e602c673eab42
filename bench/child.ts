/**
 * One workload run in a fresh process, so that the heap and resident set of
 * one run never carry into the next. The runner (run.ts) starts it as
 *
 *   node bench/child.ts <target> <run-kind> <data-dir> <options-json>
 *
 * (options: RunOptions, e.g. the PostgreSQL server) and reads exactly one JSON
 * line from stdout: `{ "durability": "...", "figures": { "W3": 41234 } }`.
 * Multi-process runs (W3-2w, W7; for spool-server also W4 and C1000) start their
 * extra processes from here; the spool-server target starts its broker process.
 * Progress goes to stderr. Exit code 1 with a message on stderr when the run fails.
 */
import type { TargetContext } from './target.ts';
import { createTarget, isTargetId } from './targets/index.ts';
import { RUN_KINDS, type RunKind } from './workloads/catalog.ts';
import { RUNS, type RunOptions } from './workloads/index.ts';

/** The line a child prints on success. */
export interface ChildResult {
  durability: string;
  figures: Record<string, number>;
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
  try {
    await target.setup();
    const figures = await RUNS[runKind as RunKind]({ target, targetId, targetContext, options, log });
    return { durability: target.durability(), figures };
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
