import { covers, requiresOf } from '../core/resource-tags.ts';
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
    if (!s) this.#byQueue.set(queue, (s = { queue, counts: emptyCounts(), oldestReadyAgeMs: 0, paused: false, length: 0, maxLength: null, overflow: 'reject', unservable: 0 }));
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

  /** Ready jobs of `queue` no live worker can take (see QueueStats.unservable). */
  unservable(queue: string, n: number): void {
    this.#entry(queue).unservable += n;
  }

  build(asked: string | null): QueueStats[] {
    if (asked !== null) this.#entry(asked);
    for (const s of this.#byQueue.values()) s.length = s.counts.ready + s.counts.scheduled;
    return [...this.#byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1));
  }
}

/** A process's consumers of one queue with one set of resource tags, as the registry keeps them (WorkerRegistration.consumers). */
export interface ConsumerAnnouncement {
  queue: string;
  /** Canonical (sorted, without repeats); empty: none. */
  tags: string[];
  /** The jobs they run at once, together (their concurrency). */
  capacity: number;
}

/**
 * The sets of required tags (each a stored `requires` of a queue) that no live consumer of their
 * queue covers. `consumers`: the live registrations' announcements (JSON text or parsed).
 */
export function unservableSets(sets: readonly { queue: string; requires: string }[], consumers: readonly unknown[]): { queue: string; requires: string }[] {
  if (sets.length === 0) return [];
  const byQueue = new Map<string, string[][]>();
  for (const c of consumers) {
    const list = (typeof c === 'string' ? JSON.parse(c) : c) as ConsumerAnnouncement[];
    for (const a of list) {
      let tagSets = byQueue.get(a.queue);
      if (!tagSets) byQueue.set(a.queue, (tagSets = []));
      tagSets.push(a.tags);
    }
  }
  return sets.filter((s) => {
    const required = requiresOf(s.requires);
    return !(byQueue.get(s.queue) ?? []).some((tags) => covers(tags, required));
  });
}
