import { Spool, type Queue, type Worker } from '../../src/index.ts';
import type { BenchPayload } from '../payload.ts';
import type { BrokerMemory, JobCounts, Target, TargetContext, TargetWorker, WorkerSpec } from '../target.ts';

const QUEUE_NAME = 'bench';

/**
 * Spool embedded: producer, engine and worker in this one process, on the
 * SQLite store in a fresh data directory, with the default durability (`fsync`:
 * an acknowledged add has been synced to disk). Memory is this process's.
 * @example
 * const target = new SpoolEmbeddedTarget({ dataDir: '/tmp/spool-bench-x' });
 */
export class SpoolEmbeddedTarget implements Target {
  readonly id = 'spool-embedded';
  readonly #dataDir: string;
  #spool: Spool | null = null;
  #queue: Queue<BenchPayload> | null = null;
  readonly #workers: Worker<BenchPayload>[] = [];

  constructor(context: TargetContext) {
    this.#dataDir = context.dataDir;
  }

  async setup(): Promise<void> {
    // Only the store is given: every other setting, durability included, is Spool's default.
    this.#spool = await Spool.open({ store: this.#dataDir });
    this.#queue = this.#spool.queue<BenchPayload>(QUEUE_NAME);
    await this.#queue.config(); // creates the queue row now rather than inside the first timed call
  }

  durability(): string {
    return this.#open().store.capabilities.durability;
  }

  async addOne(payload: BenchPayload): Promise<void> {
    await this.#queueOrThrow().add(payload);
  }

  async addBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await this.#queueOrThrow().addMany(payloads.map((payload) => ({ payload })));
  }

  async startWorker(spec: WorkerSpec): Promise<TargetWorker> {
    const onStart = spec.onStart;
    const worker = this.#open().work<BenchPayload>(
      QUEUE_NAME,
      onStart ? (job) => void onStart(job.payload) : () => undefined,
      { concurrency: spec.concurrency },
    );
    this.#workers.push(worker);
    let completed = 0;
    let waiters: { count: number; resolve: () => void }[] = [];
    let failure: unknown = null;
    // 'completed' fires once the ack is committed, so the tally counts durable completions.
    worker.on('completed', () => {
      completed++;
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
    const [stats] = await this.#open().stats(QUEUE_NAME);
    const c = stats!.counts;
    return { waiting: c.ready + c.scheduled, active: c.active, completed: c.completed, failed: c.dead + c.cancelled };
  }

  async brokerMemory(): Promise<BrokerMemory> {
    // maxRSS is in KiB: the kernel's high-water mark catches peaks between samples.
    return { rssBytes: process.memoryUsage.rss(), peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  }

  async teardown(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close()));
    await this.#spool?.close();
    this.#spool = null;
    this.#queue = null;
  }

  #open(): Spool {
    if (!this.#spool) throw new Error('spool-embedded target used before setup()');
    return this.#spool;
  }

  #queueOrThrow(): Queue<BenchPayload> {
    if (!this.#queue) throw new Error('spool-embedded target used before setup()');
    return this.#queue;
  }
}
