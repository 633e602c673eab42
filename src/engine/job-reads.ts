import type { Clock } from '../core/clock.ts';
import { JobNotFoundError, QueueNotFoundError } from '../core/errors.ts';
import type { Job, JobLogLine, QueueStats } from '../core/job.ts';
import { checkJobId, checkQueueName } from '../core/validate.ts';
import type { JobPage } from '../api/contract.ts';
import type { Store } from '../store/store.ts';
import { checkListParams } from './inputs.ts';
import type { ListOptions } from './options.ts';

/** Reads of jobs and queues. Reads never create a queue: a name no job or setting made is QueueNotFoundError. */
export class JobReads {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #searchScanMax: number;

  constructor(store: Store, clock: Clock, searchScanMax: number) {
    this.#store = store;
    this.#clock = clock;
    this.#searchScanMax = searchScanMax;
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
    if (queue !== undefined) await this.requireQueue(checkQueueName(queue));
    return this.#store.queueStats(queue ?? null, this.#clock.now());
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
