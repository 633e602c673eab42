import type { BenchPayload } from './payload.ts';

/**
 * Queue settings of the W3 variants (W3-priority, W3-sjf, W3-fair, W3-rate, W3-keyed): a subset of
 * Spool's queue settings, written in Spool's words. Peers have no such settings and do not
 * run these variants.
 */
export interface BenchQueueSettings {
  policy?: 'fifo' | 'priority' | 'sjf' | 'fair';
  rateLimit?: { rate: number; perMs?: number; burst?: number };
  concurrencyLimit?: number;
}

/** One job of a bulk add with the add options the W3 variants give (Spool's `priority`, `cost`, `group`, `concurrencyKey`). */
export interface BenchJob {
  payload: BenchPayload;
  priority?: number;
  cost?: number;
  group?: string;
  concurrencyKey?: string;
}

/**
 * What a workload needs from a system under test. Workloads W1–W6 are written
 * once against this interface; each deployment (Spool embedded, Spool over the
 * network, a peer such as BullMQ) implements it in `bench/targets/`.
 *
 * A target is used for exactly one workload run, in a fresh process:
 * `setup()`, the run, then `teardown()`.
 * @example
 * const target = createTarget('spool-embedded', { dataDir });
 * await target.setup();
 * await target.addBatch(benchPayloads(0, 1_000));
 * await target.teardown();
 */
export interface Target {
  /** The target id used in reports, e.g. `spool-embedded`. */
  readonly id: string;
  /** Opens connections, stores and queues. Called once before the run. */
  setup(): Promise<void>;
  /** What an acknowledged add survives, printed beside every figure (valid after setup). */
  durability(): string;
  /** Adds one job; resolves once the target acknowledged it. */
  addOne(payload: BenchPayload): Promise<void>;
  /** Adds the jobs in one bulk call; resolves once the target acknowledged all of them. */
  addBatch(payloads: readonly BenchPayload[]): Promise<void>;
  /**
   * Targets with Spool's queue settings (the W3 variants): configures the benchmark queue.
   * Called after setup, before anything is added.
   */
  configureQueue?(settings: BenchQueueSettings): Promise<void>;
  /** Targets with Spool's queue settings: adds the jobs, each with its options, in one bulk call. */
  addJobs?(jobs: readonly BenchJob[]): Promise<void>;
  /**
   * Targets with topics (Spool's publish and bindings: the W1 topic runs): binds `pattern` to the
   * benchmark queue and to `extraQueues` more queues. Called after setup, before anything is published.
   */
  bindTopic?(pattern: string, extraQueues: number): Promise<void>;
  /** Targets with topics: publishes one payload to `topic`; resolves once every copy is acknowledged. */
  publish?(topic: string, payload: BenchPayload): Promise<void>;
  /** Targets with topics: the waiting jobs of each of the `extraQueues` more queues bindTopic bound. */
  extraQueueWaiting?(extraQueues: number): Promise<number[]>;
  /** Starts one worker that runs a no-op handler, `concurrency` jobs at once. */
  startWorker(options: WorkerSpec): Promise<TargetWorker>;
  /** Job counts of the benchmark queue, read from the store (the truth, not the worker's tally). */
  jobCounts(): Promise<JobCounts>;
  /** Memory of the process that holds the queue (the engine or broker). */
  brokerMemory(): Promise<BrokerMemory>;
  /**
   * For targets that several processes can share (multi-process workloads W3-2w and W7):
   * what another process passes as `TargetContext.attach` to reach this target's store.
   * Valid after setup.
   */
  attachSpec?(): AttachSpec;
  /**
   * True for deployments whose producers and workers are separate processes (a
   * broker and its clients): W4 then adds from the run's process and runs its
   * worker in another one (bench/proc.ts), the add time in the payload.
   */
  readonly latencyAcrossProcesses?: boolean;
  /**
   * For broker targets (the C1000 run): opens `count` idle client sessions to the
   * broker, each a full protocol handshake, and resolves once all are open. Called
   * on a target created with `attach` and not set up. Resolves to a function that
   * closes them.
   */
  idleConnections?(count: number): Promise<() => Promise<void>>;
  /** Stops workers, closes connections, releases the store. Safe to call after a failed setup. */
  teardown(): Promise<void>;
}

/** How to run a benchmark worker. */
export interface WorkerSpec {
  concurrency: number;
  /** Called synchronously at the start of each handler, before it returns. */
  onStart?: (payload: BenchPayload) => void;
  /**
   * Called once the target has acknowledged the job's completion (durably recorded).
   * `completedAt` (epoch ms) is when the target recorded it, for a target that learns
   * of completions after the fact (pg-boss: its `completed_on`); absent, it is now.
   */
  onComplete?: (payload: BenchPayload, completedAt?: number) => void;
}

/** A running benchmark worker. */
export interface TargetWorker {
  /** Jobs whose completion the target has acknowledged (durably recorded), so far. */
  completed(): number;
  /** Resolves when at least `count` completions are acknowledged. */
  waitCompleted(count: number): Promise<void>;
  /** Stops the worker gracefully. Idempotent. */
  close(): Promise<void>;
}

/** Jobs of the benchmark queue by state. */
export interface JobCounts {
  /** Ready to run (or scheduled). */
  waiting: number;
  active: number;
  completed: number;
  /** Failed for good or cancelled: a benchmark run expects none. */
  failed: number;
}

/** Resident memory of the broker process, in bytes. */
export interface BrokerMemory {
  /** Resident set size now. */
  rssBytes: number;
  /** The operating system's high-water mark of the resident set, when it is known. */
  peakRssBytes: number | null;
}

/** Where a target may keep its files; removed by the runner after the run. */
export interface TargetContext {
  /** A fresh, empty directory under the system temp directory. */
  dataDir: string;
  /** The PostgreSQL server of targets that need one (`postgres://…`), or null. */
  postgresUrl?: string | null;
  /**
   * Set in the extra processes of a multi-process workload: use the store another
   * process's target created (its {@link Target.attachSpec}) instead of a fresh one,
   * and leave it in place on teardown (its creator removes it).
   */
  attach?: AttachSpec | null;
  /** Targets that start a broker process: write its V8 CPU profile here (`--cpu-prof`), or null. */
  brokerCpuProf?: { dir: string; name: string } | null;
}

/** Names a target's store for another process; opaque to everything but the target. */
export type AttachSpec = Record<string, string>;
