import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoordinatorMessage, ProcMessage, ProcSpec } from '../proc.ts';
import { LatencyHistogram } from '../report/histogram.ts';
import { check, count, epochNow, STALL_TIMEOUT_MS, withStallGuard, type RunContext, type RunFigures } from './run-context.ts';
import { fillBacklog } from './drain.ts';
import { splitRate } from './w7-pace.ts';

/** W3-2w settings: W3's backlog and concurrency, drained by two worker processes (the PostgreSQL issue's scaling check). */
export const W3_2W = { backlog: 100_000, processes: 2, concurrency: 64 } as const;
/** W7 settings: 4 producer and 4 worker processes; producers add one job per add() call, at most 64 in flight each. */
export const W7 = { producers: 4, workers: 4, concurrency: 64, inFlight: 64 } as const;

const PROC_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'proc.ts');
/** Jobs per bulk call while filling the W3-2w backlog (not timed), as in drain.ts. */
/** How long a process may take to answer a message that needs no queue progress (ready, produced, drained). */
const REPLY_TIMEOUT_MS = 60_000;

type Reply<T extends ProcMessage['type']> = Extract<ProcMessage, { type: T }>;

/** The roles of bench/proc.ts. */
export type ProcRole = 'producer' | 'worker' | 'idle';

/** One forked producer, worker or idle-connections process (bench/proc.ts), driven over IPC. */
export class Proc {
  readonly name: string;
  /** The latest `progress` count it reported (adds for a producer, completions for a worker). */
  progress = 0;
  readonly #child: ChildProcess;
  readonly #inbox: ProcMessage[] = [];
  #waiter: { resolve: (m: ProcMessage) => void; reject: (e: Error) => void } | null = null;
  #gone: Error | null = null;

  constructor(ctx: RunContext, role: ProcRole, index: number, spec: Omit<ProcSpec, 'context' | 'index'>) {
    this.name = `${role} ${index + 1}`;
    const full: ProcSpec = { ...spec, index, context: { ...ctx.targetContext, attach: ctx.target.attachSpec!() } };
    const prof = ctx.options.cpuProfDir;
    const execArgv = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${ctx.options.runLabel}-${role}${index + 1}.cpuprofile`] : [];
    this.#child = fork(PROC_PATH, [ctx.targetId, role, JSON.stringify(full)], {
      execArgv,
      serialization: 'advanced', // latencies travel as a Float64Array
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (m: ProcMessage) => {
      if (m.type === 'progress') this.progress = m.count;
      else if (m.type === 'failed') this.#fail(new Error(`${this.name} failed: ${m.message}`));
      else if (this.#waiter) {
        this.#waiter.resolve(m);
        this.#waiter = null;
      } else this.#inbox.push(m);
    });
    this.#child.on('error', (err) => this.#fail(new Error(`${this.name}: ${err.message}`, { cause: err })));
    this.#child.on('exit', (code, signal) => this.#fail(new Error(`${this.name} exited (${signal ? `signal ${signal}` : `code ${code}`}) before it was done; see the messages above`)));
  }

  send(message: CoordinatorMessage): void {
    if (this.#gone) throw this.#gone;
    this.#child.send(message);
  }

  /** The next message of `type` (progress aside), failing if the process dies or stays silent for `timeoutMs`. */
  async next<T extends ProcMessage['type']>(type: T, timeoutMs = REPLY_TIMEOUT_MS): Promise<Reply<T>> {
    const m = this.#inbox.shift() ?? (await this.#receive(timeoutMs));
    if (m.type !== type) throw new Error(`${this.name}: expected ${type}, got ${m.type}`);
    return m as Reply<T>;
  }

  /** Ends the process if it is still running (after a failed run). */
  kill(): void {
    if (this.#running) this.#child.kill('SIGKILL');
  }

  /** Waits for the process to exit by itself (it does after its last answer, writing its CPU profile if asked), killing it after `timeoutMs`. */
  async exited(timeoutMs = REPLY_TIMEOUT_MS): Promise<void> {
    if (!this.#running) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        resolve();
      }, timeoutMs);
      this.#child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get #running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  #receive(timeoutMs: number): Promise<ProcMessage> {
    if (this.#gone) return Promise.reject(this.#gone);
    return new Promise<ProcMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new Error(`${this.name}: no answer for ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#waiter = {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  #fail(err: Error): void {
    // A clean exit after the last answer is not a failure: nobody is waiting then.
    this.#gone ??= err;
    this.#waiter?.reject(err);
    this.#waiter = null;
  }
}

/** Starts `n` processes of one role (numbered from `firstIndex`) on the target's store and waits until each has opened it. */
export async function startProcs(ctx: RunContext, procs: Proc[], role: ProcRole, n: number, spec: Omit<ProcSpec, 'context' | 'index'>, firstIndex = 0): Promise<Proc[]> {
  const started: Proc[] = [];
  for (let i = firstIndex; i < firstIndex + n; i++) {
    const p = new Proc(ctx, role, i, spec);
    procs.push(p);
    started.push(p);
  }
  await Promise.all(started.map((p) => p.next('ready')));
  return started;
}

/** Waits until the processes' progress reaches `total`, failing when it stops moving for the stall timeout. */
export function waitProgress(procs: readonly Proc[], total: number, what: string): Promise<void> {
  const sum = (): number => procs.reduce((s, p) => s + p.progress, 0);
  const reached = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (sum() >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
  });
  return withStallGuard(reached, sum, what, STALL_TIMEOUT_MS);
}

function checkSettled(after: { waiting: number; active: number; completed: number; failed: number }, expect: { waiting: number; completed: number }): void {
  check(
    after.completed === expect.completed && after.waiting === expect.waiting && after.active === 0 && after.failed === 0,
    `expected ${count(expect.completed)} completed and ${count(expect.waiting)} waiting jobs in the store, nothing active or failed; found ${JSON.stringify(after)}`,
  );
}

/**
 * W3-2w: W3 (a backlog of 100,000 ready jobs, filled first, not timed) drained
 * by `processes` worker processes of `concurrency` each, on the store of this
 * process's target. Timed from the start message to the last acknowledged
 * completion in any of them (epoch times, so across processes).
 * @example
 * const { 'W3-2w': jobsPerS } = await drainWithProcesses(ctx);
 */
export async function drainWithProcesses(ctx: RunContext, backlog: number = W3_2W.backlog, processes: number = W3_2W.processes, concurrency: number = W3_2W.concurrency): Promise<RunFigures> {
  const { target, log } = ctx;
  await fillBacklog(ctx, backlog);
  const procs: Proc[] = [];
  try {
    const workers = await startProcs(ctx, procs, 'worker', processes, { concurrency, inFlight: 0 });
    const startAt = epochNow();
    for (const w of workers) w.send({ type: 'start', startAt, endAt: null });
    const ticker = ctx.progress ? setInterval(() => ctx.progress!('drain', workers.reduce((s, w) => s + w.progress, 0), backlog), 250) : undefined;
    try {
      await waitProgress(workers, backlog, `${processes} worker processes draining ${count(backlog)} jobs`);
    } finally {
      clearInterval(ticker);
    }
    for (const w of workers) w.send({ type: 'stop' });
    const results = await Promise.all(workers.map((w) => w.next('drained')));
    const done = results.reduce((s, r) => s + r.completed, 0);
    check(done === backlog, `expected ${count(backlog)} completions from the worker processes, got ${count(done)}`);
    const endAt = Math.max(...results.map((r) => r.lastCompletedAt ?? 0));
    const elapsedMs = endAt - startAt;
    // Jobs claimed for a worker that was closing go back to the queue when its process closes its Spool.
    await Promise.all(procs.map((p) => p.exited()));
    checkSettled(await target.jobCounts(), { waiting: 0, completed: backlog });
    log(`${processes} worker processes drained ${count(backlog)} jobs in ${(elapsedMs / 1000).toFixed(2)} s; shares ${results.map((r) => count(r.completed)).join(' / ')}`);
    return { 'W3-2w': (backlog / elapsedMs) * 1000 };
  } finally {
    for (const p of procs) p.kill();
  }
}

/**
 * W7 end-to-end mixed: `workers` worker processes (concurrency 64 each) run,
 * then `producers` producer processes add jobs for `seconds` at `ratePerS` in
 * all (the runner passes 70 % of the target's W3: w7-pace.ts), each on a fixed
 * schedule, one add() per job with at most 64 calls in flight each, the add time in the payload.
 * Figures: completions acknowledged within the window per second, the p99
 * of add()→acknowledged completion over those completions (samples of all
 * worker processes together), and the rate offered (`W7-rate`). Jobs left over at the end are counted, not drained.
 * @example
 * const { W7: jobsPerS, 'W7-p99': ms } = await endToEndMixed(ctx);
 */
export async function endToEndMixed(ctx: RunContext, seconds: number = ctx.options.w7Seconds, ratePerS: number | null = ctx.options.w7RatePerS ?? null): Promise<RunFigures> {
  const { target, log } = ctx;
  check(ratePerS !== null && ratePerS > 0, 'W7 needs its offered rate (70 % of the target\'s W3, or --w7-rate), and the runner passed none');
  const procs: Proc[] = [];
  try {
    const workers = await startProcs(ctx, procs, 'worker', W7.workers, { concurrency: W7.concurrency, inFlight: 0 });
    const paces = splitRate(ratePerS, W7.producers);
    // One process per share of the rate, each with its own schedule, started together.
    const producers = (await Promise.all(paces.map((pace, i) => startProcs(ctx, procs, 'producer', 1, { concurrency: 0, inFlight: W7.inFlight, pace }, i)))).flat();
    const startAt = epochNow();
    const endAt = startAt + seconds * 1000;
    for (const p of [...workers, ...producers]) p.send({ type: 'start', startAt, endAt });
    const ticker = setInterval(() => {
      const added = producers.reduce((s, p) => s + p.progress, 0);
      const completed = workers.reduce((s, p) => s + p.progress, 0);
      log(`W7 at ${((epochNow() - startAt) / 1000).toFixed(0)} s: ${count(added)} added, ${count(completed)} completed`);
    }, 10_000);
    // The window in seconds, for the progress bar.
    const windowTicker = ctx.progress
      ? setInterval(() => ctx.progress!('window', Math.min(seconds, Math.floor((epochNow() - startAt) / 1000)), seconds), 250)
      : undefined;
    let produced: Reply<'produced'>[];
    try {
      produced = await Promise.all(producers.map((p) => p.next('produced', seconds * 1000 + REPLY_TIMEOUT_MS)));
    } finally {
      clearInterval(ticker);
      clearInterval(windowTicker);
    }
    for (const w of workers) w.send({ type: 'stop' });
    const drained = await Promise.all(workers.map((w) => w.next('drained')));

    const added = produced.reduce((s, r) => s + r.added, 0);
    const maxLagMs = Math.max(...produced.map((r) => r.maxLagMs));
    const completed = drained.reduce((s, r) => s + r.completed, 0);
    const inWindow = drained.reduce((s, r) => s + r.inWindow, 0);
    // Jobs claimed for a worker that was closing go back to the queue when its process closes its Spool.
    await Promise.all(procs.map((p) => p.exited()));
    checkSettled(await target.jobCounts(), { waiting: added - completed, completed });
    // The worker processes send their raw samples; one HDR histogram of all of them is their exact merge.
    const histogram = new LatencyHistogram();
    for (const r of drained) for (const ms of r.latencies) histogram.recordMs(ms);
    check(histogram.count === inWindow && inWindow > 0, `expected one add→complete sample per completion in the window (${count(inWindow)}), got ${count(histogram.count)}`);
    ctx.keepHistogram?.('W7', histogram);
    const s = histogram.summary();
    log(
      `W7 over ${seconds} s at ${count(ratePerS)} jobs/s offered: ${count(added)} added (${count((added / seconds))} jobs/s; add() calls at most ` +
        `${maxLagMs.toFixed(1)} ms behind their schedule), ${count(inWindow)} completed in the window ` +
        `(${count(inWindow / seconds)} jobs/s; per worker process ${drained.map((r) => count(r.inWindow)).join(' / ')}), ` +
        `${count(added - completed)} left queued; add→complete ms p50 ${s.p50.toFixed(1)}, p90 ${s.p90.toFixed(1)}, p99 ${s.p99.toFixed(1)}, max ${s.max.toFixed(1)}`,
    );
    return { W7: inWindow / seconds, 'W7-p99': s.p99, 'W7-rate': ratePerS };
  } finally {
    for (const p of procs) p.kill();
  }
}
