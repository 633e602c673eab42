/**
 * What the peer targets share: the tally of a worker's acknowledged completions,
 * run-scoped names, and the memory of a server process.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { processMemory } from '../../broker-process.ts';
import type { BenchPayload } from '../../payload.ts';
import type { BrokerMemory, TargetWorker, WorkerSpec } from '../../target.ts';

/** A fresh name for one run's queue, stream or schema: `<prefix>_<12 hex digits>`. */
export function runName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** The payload of a job as the peers carry it: the JSON text of a {@link BenchPayload}. */
export function encodePayload(payload: BenchPayload): string {
  return JSON.stringify(payload);
}

/**
 * Counts a worker's completions once its queue acknowledged them, calls the
 * spec's `onComplete`, and resolves the `waitCompleted` waiters. A failure (a
 * failed job, a client error) is kept and thrown by `completed()`, which the
 * workloads poll: the run then ends with the message instead of stalling.
 */
export class CompletionTally {
  #completed = 0;
  #waiters: { count: number; resolve: () => void }[] = [];
  #failure: unknown = null;
  readonly #onComplete: WorkerSpec['onComplete'];
  readonly #label: string;

  constructor(label: string, spec: WorkerSpec) {
    this.#label = label;
    this.#onComplete = spec.onComplete;
  }

  /** One acknowledged completion; `at` is its epoch-ms time when the queue recorded it (else now). */
  complete(payload: BenchPayload, at?: number): void {
    this.#completed++;
    this.#onComplete?.(payload, at);
    if (this.#waiters.length > 0 && this.#waiters.some((w) => this.#completed >= w.count)) {
      for (const w of this.#waiters) if (this.#completed >= w.count) w.resolve();
      this.#waiters = this.#waiters.filter((w) => this.#completed < w.count);
    }
  }

  fail(err: unknown): void {
    this.#failure ??= err;
  }

  get count(): number {
    return this.#completed;
  }

  /** The tally, or the first failure. */
  completed(): number {
    if (this.#failure) throw new Error(`${this.#label} worker reported a failure: ${(this.#failure as Error)?.message ?? this.#failure}`, { cause: this.#failure });
    return this.#completed;
  }

  waitCompleted(count: number): Promise<void> {
    return this.#completed >= count ? Promise.resolve() : new Promise<void>((resolve) => void this.#waiters.push({ count, resolve }));
  }

  /** A {@link TargetWorker} over this tally. */
  worker(close: () => Promise<void>, settle?: () => Promise<void>): TargetWorker {
    let closing: Promise<void> | null = null;
    return {
      completed: () => this.completed(),
      waitCompleted: async (count) => {
        await this.waitCompleted(count);
        await settle?.();
      },
      close: () => (closing ??= close()),
    };
  }
}

/** Reads an integer environment variable, or null. */
export function envPid(name: string | null): number | null {
  if (name === null) return null;
  const raw = process.env[name];
  if (!raw) return null;
  const pid = Number(raw);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * The memory of a single-process server (redis-server, beam.smp, nats-server):
 * VmRSS now and VmHWM, the kernel's high-water mark. The server outlives the run,
 * so {@link resetPeak} clears VmHWM at the start of each run (root only; otherwise
 * only the sampled RSS counts, and the note says so).
 */
export class ServerMemory {
  readonly #pid: number | null;
  readonly #what: string;
  #peakKnown = false;

  constructor(pid: number | null, what: string) {
    this.#pid = pid;
    this.#what = what;
  }

  /** Clears the server's VmHWM (`echo 5 > /proc/<pid>/clear_refs`), so that the peak is this run's. */
  resetPeak(): void {
    if (this.#pid === null) return;
    try {
      writeFileSync(`/proc/${this.#pid}/clear_refs`, '5');
      this.#peakKnown = true;
    } catch {
      this.#peakKnown = false;
    }
  }

  read(): BrokerMemory {
    if (this.#pid === null) throw new Error(`the ${this.#what} process id is not known: its memory (W6) needs the server on this machine, started by \`npm run bench:peers\``);
    const m = processMemory(this.#pid);
    return { rssBytes: m.rssBytes, peakRssBytes: this.#peakKnown ? m.peakRssBytes : null };
  }
}

/** Parent pid of a process, from /proc/<pid>/stat, or null when it is gone. */
function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return null;
  }
}

/** Proportional set size of a process (shared pages split between their users), in bytes, or 0 when it is gone. */
function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The memory of a process and its children (PostgreSQL: the postmaster and its
 * backends and helpers), as the sum of their proportional set sizes: shared
 * buffers are counted once, not once per backend as summing RSS would.
 */
export function processTreePss(rootPid: number): number {
  let total = pssBytes(rootPid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid !== rootPid && parentPid(pid) === rootPid) total += pssBytes(pid);
  }
  return total;
}
