import type { Clock } from '../core/clock.ts';
import { JobNotFoundError, QueueNotFoundError } from '../core/errors.ts';
import type { Job, JobLogLine, QueueStats } from '../core/job.ts';
import { checkJobId, checkQueueName } from '../core/validate.ts';
import type { JobPage } from '../api/contract.ts';
import type { RateLimit } from '../core/queue-config.ts';
import type { Store, StoredQueue } from '../store/store.ts';
import { defaultQueueConfig, resolveQueueConfig } from '../core/queue-config.ts';
import { rateBucket } from './rate-limit.ts';
import { checkListParams } from './inputs.ts';
import type { ListOptions } from './options.ts';

/**
 * The stats with each queue's bound (`maxLength`, `overflow`) from its stored settings: the rows
 * given, or all of them in one read of the queues table (small: a row per queue).
 */
export async function withBounds(store: Store, stats: QueueStats[], rows?: readonly StoredQueue[]): Promise<QueueStats[]> {
  if (stats.length === 0) return stats;
  const configs = new Map((rows ?? (await store.queueList())).map((q) => [q.name, resolveQueueConfig(q.config, defaultQueueConfig())]));
  for (const s of stats) {
    const config = configs.get(s.queue);
    if (!config) continue;
    s.maxLength = config.maxLength;
    s.overflow = config.overflow;
  }
  return stats;
}

/** Reads of jobs and queues. Reads never create a queue: a name no job or setting made is QueueNotFoundError. */
export class JobReads {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #searchScanMax: number;
  readonly #rateLimitOf: (queue: string) => Promise<RateLimit | null>;

  /** @param rateLimitOf a queue's rate limit, as the claims see it (cached settings). */
  constructor(store: Store, clock: Clock, searchScanMax: number, rateLimitOf: (queue: string) => Promise<RateLimit | null>) {
    this.#store = store;
    this.#clock = clock;
    this.#searchScanMax = searchScanMax;
    this.#rateLimitOf = rateLimitOf;
  }

  async get<P>(id: string): Promise<Job<P>> {
    const [job] = await this.#store.jobsGet([checkJobId(id)]);
    if (!job) throw new JobNotFoundError(id);
    return job as Job<P>;
  }

  async listPage(queue: string, options: ListOptions): Promise<JobPage> {
    const { params, payload } = checkListParams(queue, options);
    await this.requireQueue(queue);
    if (payload) return this.#store.jobsSearch({ ...params, payload, scanMax: this.#searchScanMax });
    const jobs = await this.#store.jobsList(params);
    return { jobs, next: jobs.length === params.limit ? jobs.at(-1)!.id : null };
  }

  async stats(queue?: string): Promise<QueueStats[]> {
    const now = this.#clock.now();
    let stats: QueueStats[];
    if (queue === undefined) stats = await withBounds(this.#store, await this.#store.queueStats(null, now));
    else {
      const stored = await this.#store.queueGet(checkQueueName(queue));
      if (stored === null) throw new QueueNotFoundError(queue);
      stats = await withBounds(this.#store, await this.#store.queueStats(queue, now), [stored]);
    }
    return Promise.all(stats.map((s) => this.#withHold(s, now)));
  }

  /** Adds `heldUntil` to the stats of a queue with a rate limit: a read of its bucket, only while it has ready jobs. */
  async #withHold(stats: QueueStats, now: number): Promise<QueueStats> {
    const limit = await this.#rateLimitOf(stats.queue);
    if (!limit) return stats;
    if (stats.counts.ready === 0 || stats.paused) return { ...stats, heldUntil: null };
    const bucket = await this.#store.rateLimitRead({ ...rateBucket(stats.queue, limit), now });
    return { ...stats, heldUntil: bucket.tokens === 0 ? bucket.nextAt : null };
  }

  async logs(id: string): Promise<JobLogLine[]> {
    const lines = await this.#store.jobLogs(checkJobId(id));
    if (lines === null) throw new JobNotFoundError(id);
    return lines;
  }

  /** @throws QueueNotFoundError for a name no job or setting made. */
  async requireQueue(name: string): Promise<void> {
    if ((await this.#store.queueGet(name)) === null) throw new QueueNotFoundError(name);
  }
}
