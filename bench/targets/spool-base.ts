import { Spool, type Handler, type OpenOptions, type Queue, type QueueStats, type Worker, type WorkerOptions } from '../../src/index.ts';
import type { BenchPayload } from '../payload.ts';
import type { BenchJob, BenchQueueSettings, BrokerMemory, JobCounts, Target, TargetWorker, WorkerSpec } from '../target.ts';

/** The queue every Spool target uses. */
export const QUEUE_NAME = 'bench';

/**
 * What the bench uses of a Spool: the in-process engine (`Spool.open`) and the
 * remote client (`Spool.connect`) both have it.
 */
export interface BenchSpool {
  queue<P = unknown>(name: string): Queue<P>;
  bind(pattern: string, queue: string): Promise<unknown>;
  publish<P>(topic: string, payload: P): Promise<unknown>;
  work<P = unknown, R = unknown>(queue: string, handler: Handler<P, R>, options?: WorkerOptions): Worker<P, R>;
  stats(queue?: string): Promise<QueueStats[]>;
  close(): Promise<void>;
}

/**
 * What every Spool target shares, in-process or remote: the queue, the worker
 * and the job counts through Spool's public API. A subclass says how to get
 * its Spool ({@link openSpool}), what its durability is and whose memory counts.
 */
export abstract class SpoolTarget<S extends BenchSpool> implements Target {
  abstract readonly id: string;
  #spool: S | null = null;
  #queue: Queue<BenchPayload> | null = null;
  readonly #workers: Worker<BenchPayload>[] = [];

  /** Opens (or connects to) the Spool of this target. */
  protected abstract openSpool(): Promise<S>;
  abstract durability(): string;
  abstract brokerMemory(): Promise<BrokerMemory>;

  async setup(): Promise<void> {
    this.#spool = await this.openSpool();
    this.#queue = this.#spool.queue<BenchPayload>(QUEUE_NAME);
    await this.#queue.configure({}); // creates the queue row now rather than inside the first timed call
  }

  async addOne(payload: BenchPayload): Promise<void> {
    await this.#queueOrThrow().add(payload);
  }

  async addBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await this.#queueOrThrow().addMany(payloads.map((payload) => ({ payload })));
  }

  async configureQueue(settings: BenchQueueSettings): Promise<void> {
    await this.#queueOrThrow().configure(settings);
  }

  async addJobs(jobs: readonly BenchJob[]): Promise<void> {
    await this.#queueOrThrow().addMany(jobs);
  }

  async bindTopic(pattern: string, extraQueues: number): Promise<void> {
    await this.spool.bind(pattern, QUEUE_NAME);
    for (let i = 1; i <= extraQueues; i++) {
      await this.spool.queue(`${QUEUE_NAME}-${i}`).configure({}); // the queue rows exist before the timed publishes, as the bench queue's
      await this.spool.bind(pattern, `${QUEUE_NAME}-${i}`);
    }
  }

  async publish(topic: string, payload: BenchPayload): Promise<void> {
    await this.spool.publish(topic, payload);
  }

  async extraQueueWaiting(extraQueues: number): Promise<number[]> {
    const stats = await this.spool.stats();
    return Array.from({ length: extraQueues }, (_, i) => {
      const c = stats.find((s) => s.queue === `${QUEUE_NAME}-${i + 1}`)?.counts;
      return c ? c.ready + c.scheduled : 0;
    });
  }

  async startWorker(spec: WorkerSpec): Promise<TargetWorker> {
    const { onStart, onComplete } = spec;
    const worker = this.spool.work<BenchPayload>(
      QUEUE_NAME,
      onStart ? (job) => void onStart(job.payload) : () => undefined,
      { concurrency: spec.concurrency },
    );
    this.#workers.push(worker);
    let completed = 0;
    let waiters: { count: number; resolve: () => void }[] = [];
    let failure: unknown = null;
    // 'completed' fires once the ack is committed, so the tally counts durable completions.
    worker.on('completed', (job) => {
      completed++;
      onComplete?.(job.payload);
      if (waiters.length > 0 && waiters.some((w) => completed >= w.count)) {
        for (const w of waiters) if (completed >= w.count) w.resolve();
        waiters = waiters.filter((w) => completed < w.count);
      }
    });
    worker.on('failed', (_job, err) => (failure ??= err));
    worker.on('error', (err) => (failure ??= err));
    return {
      completed: () => {
        if (failure) throw new Error(`spool worker reported a failure: ${(failure as Error)?.message ?? failure}`, { cause: failure });
        return completed;
      },
      waitCompleted: (count) =>
        completed >= count ? Promise.resolve() : new Promise<void>((resolve) => void waiters.push({ count, resolve })),
      close: () => worker.close(),
    };
  }

  async jobCounts(): Promise<JobCounts> {
    const [stats] = await this.spool.stats(QUEUE_NAME);
    const c = stats!.counts;
    return { waiting: c.ready + c.scheduled, active: c.active, completed: c.completed, failed: c.dead + c.cancelled };
  }

  async teardown(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close()));
    await this.#spool?.close();
    this.#spool = null;
    this.#queue = null;
  }

  /** The open Spool. @throws before setup() */
  protected get spool(): S {
    if (!this.#spool) throw new Error(`${this.id} target used before setup()`);
    return this.#spool;
  }

  #queueOrThrow(): Queue<BenchPayload> {
    if (!this.#queue) throw new Error(`${this.id} target used before setup()`);
    return this.#queue;
  }
}

/**
 * What every in-process Spool target shares: the engine runs in this process
 * (producer, engine and worker together), so memory is this process's. A
 * subclass says which store to open ({@link openOptions}) and what its
 * durability is.
 */
export abstract class SpoolInProcessTarget extends SpoolTarget<Spool> {
  /** The options of `Spool.open`: only the store (and its location), every other setting is Spool's default. */
  protected abstract openOptions(): OpenOptions;

  protected openSpool(): Promise<Spool> {
    return Spool.open(this.openOptions());
  }

  async brokerMemory(): Promise<BrokerMemory> {
    // maxRSS is in KiB: the kernel's high-water mark catches peaks between samples.
    return { rssBytes: process.memoryUsage.rss(), peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  }
}
