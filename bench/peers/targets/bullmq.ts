/**
 * BullMQ on Redis, set up as BullMQ's "Going to production" guide says: Redis with
 * AOF persistence (`appendfsync everysec`) and `maxmemory-policy noeviction` (the
 * server `npm run bench:peers` starts; the durability printed beside every figure
 * is read from the server itself), the Queue failing fast (`enableOfflineQueue:
 * false`), the Worker retrying forever (`maxRetriesPerRequest: null`), and finished
 * jobs removed by age (kept a day, so that the completed count BullMQ keeps is the
 * completion record the bench reads).
 *
 * Each run uses a fresh queue name, obliterated at the end. A Worker of
 * concurrency 64 runs the no-op processor; a job counts as completed on the
 * Worker's `completed` event, which BullMQ emits once its Lua script has moved the
 * job to the completed set. Producers and workers are separate client processes
 * of the Redis server (W4 runs its worker in a process of its own, as for
 * spool-server), and the memory (W6) is the redis-server process's.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchPayload } from '../../payload.ts';
import type { AttachSpec, BrokerMemory, JobCounts, Target, TargetContext, TargetWorker, WorkerSpec } from '../../target.ts';
import { CompletionTally, envPid, runName, ServerMemory } from './common.ts';

const JOB_NAME = 'send-email';
/** Finished jobs are removed by age: a day for completed ones, a week for failed ones (the guide's advice is to bound them). */
const KEEP_COMPLETED_S = 24 * 3600;
const KEEP_FAILED_S = 7 * 24 * 3600;

/** Connection options for BullMQ from a `redis://host:port` URL. */
function redisOptions(url: string): { host: string; port: number; password?: string } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), ...(u.password ? { password: decodeURIComponent(u.password) } : {}) };
}

export function createPeerTarget(context: TargetContext): Target {
  return new BullmqTarget(context);
}

class BullmqTarget implements Target {
  readonly id = 'bullmq';
  readonly latencyAcrossProcesses = true;
  readonly #url: string;
  readonly #queueName: string;
  readonly #attached: boolean;
  #queue: Queue<BenchPayload> | null = null;
  #admin: Redis | null = null;
  #durability: string | null;
  #memory: ServerMemory | null = null;
  readonly #workers: Worker<BenchPayload>[] = [];

  constructor(context: TargetContext) {
    const url = process.env.SPOOL_BENCH_REDIS_URL;
    if (!url) throw new Error('bullmq needs a Redis server: set SPOOL_BENCH_REDIS_URL, or run `npm run bench:peers`');
    this.#url = url;
    this.#attached = context.attach?.queue !== undefined;
    this.#queueName = context.attach?.queue ?? runName('bench');
    this.#durability = context.attach?.durability ?? null;
  }

  async setup(): Promise<void> {
    const connection = { ...redisOptions(this.#url), enableOfflineQueue: false };
    this.#queue = new Queue<BenchPayload>(this.#queueName, {
      connection,
      defaultJobOptions: { removeOnComplete: { age: KEEP_COMPLETED_S }, removeOnFail: { age: KEEP_FAILED_S } },
    });
    this.#queue.on('error', () => {}); // a failed command rejects its own promise; no unhandled 'error' event
    await this.#queue.waitUntilReady();
    if (!this.#attached) {
      this.#admin = new Redis({ ...redisOptions(this.#url), lazyConnect: true });
      await this.#admin.connect();
      this.#durability = await this.#readDurability(this.#admin);
      this.#memory = new ServerMemory(envPid('SPOOL_BENCH_REDIS_PID'), 'redis-server');
      this.#memory.resetPeak();
    }
  }

  async #readDurability(admin: Redis): Promise<string> {
    const config = async (name: string): Promise<string> => {
      const reply = (await admin.config('GET', name)) as string[];
      return reply[1] ?? '?';
    };
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
    const aof = await config('appendonly');
    const fsync = await config('appendfsync');
    const policy = await config('maxmemory-policy');
    const what = aof === 'yes' ? `AOF appendfsync ${fsync}${fsync === 'everysec' ? ' (a crash may lose the last second)' : ''}` : 'no AOF (a crash loses all since the last snapshot)';
    return `Redis ${version}, ${what}, ${policy}`;
  }

  durability(): string {
    if (this.#durability === null) throw new Error('bullmq target used before setup()');
    return this.#durability;
  }

  async addOne(payload: BenchPayload): Promise<void> {
    await this.#q.add(JOB_NAME, payload);
  }

  async addBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await this.#q.addBulk(payloads.map((data) => ({ name: JOB_NAME, data })));
  }

  async startWorker(spec: WorkerSpec): Promise<TargetWorker> {
    const tally = new CompletionTally('bullmq', spec);
    const { onStart } = spec;
    const worker = new Worker<BenchPayload>(
      this.#queueName,
      async (job: Job<BenchPayload>) => {
        onStart?.(job.data);
      },
      { connection: { ...redisOptions(this.#url), maxRetriesPerRequest: null }, concurrency: spec.concurrency },
    );
    this.#workers.push(worker);
    // 'completed' fires once moveToFinished has run in Redis: the completion is recorded.
    worker.on('completed', (job) => tally.complete(job.data));
    worker.on('failed', (_job, err) => tally.fail(err));
    worker.on('error', (err) => tally.fail(err));
    await worker.waitUntilReady();
    return tally.worker(() => worker.close());
  }

  async jobCounts(): Promise<JobCounts> {
    const c = await this.#q.getJobCounts('wait', 'prioritized', 'delayed', 'waiting-children', 'active', 'completed', 'failed');
    const n = (key: string): number => c[key] ?? 0;
    return {
      waiting: n('wait') + n('prioritized') + n('delayed') + n('waiting-children'),
      active: n('active'),
      completed: n('completed'),
      failed: n('failed'),
    };
  }

  async brokerMemory(): Promise<BrokerMemory> {
    if (!this.#memory) throw new Error('bullmq: memory is read by the process that set the run up');
    return this.#memory.read();
  }

  attachSpec(): AttachSpec {
    return { queue: this.#queueName, durability: this.durability() };
  }

  async teardown(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close()));
    try {
      if (!this.#attached && this.#queue) await this.#queue.obliterate({ force: true });
    } finally {
      await this.#queue?.close();
      this.#queue = null;
      this.#admin?.disconnect();
      this.#admin = null;
    }
  }

  get #q(): Queue<BenchPayload> {
    if (!this.#queue) throw new Error('bullmq target used before setup()');
    return this.#queue;
  }
}
