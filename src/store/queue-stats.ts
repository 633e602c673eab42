import { emptyCounts, type JobState, type QueueStats } from '../core/job.ts';

/**
 * Builds per-queue stats from what a driver read: queues with their paused flag, job
 * counts per state, and the oldest ready time. Queues come out sorted by name; a queue
 * asked for by name is present even when it has no jobs.
 */
export class QueueStatsBuilder {
  readonly #byQueue = new Map<string, QueueStats>();
  readonly #now: number;

  constructor(now: number) {
    this.#now = now;
  }

  #entry(queue: string): QueueStats {
    let s = this.#byQueue.get(queue);
    if (!s) this.#byQueue.set(queue, (s = { queue, counts: emptyCounts(), oldestReadyAgeMs: 0, paused: false, length: 0, maxLength: null, overflow: 'reject' }));
    return s;
  }

  paused(queue: string, paused: boolean): void {
    this.#entry(queue).paused = paused;
  }

  count(queue: string, state: JobState, n: number): void {
    this.#entry(queue).counts[state] = n;
  }

  oldestReady(queue: string, at: number | null): void {
    if (at !== null) this.#entry(queue).oldestReadyAgeMs = Math.max(0, this.#now - at);
  }

  build(asked: string | null): QueueStats[] {
    if (asked !== null) this.#entry(asked);
    for (const s of this.#byQueue.values()) s.length = s.counts.ready + s.counts.scheduled;
    return [...this.#byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1));
  }
}
