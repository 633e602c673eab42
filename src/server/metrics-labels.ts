/** The `queue` label of the queues past the broker's `metricsQueuesMax`. No queue can have this name: a queue name starts with a letter or digit. */
export const OTHER_QUEUE = '_other';

/** The label set of one queue, as prom-client takes it. */
export interface QueueLabel {
  readonly queue: string;
}

/**
 * Which queues get a `queue` label of their own: the first `max` the broker meets (in an event
 * or a scrape), for as long as it runs; every other queue is `_other`. So however many queues
 * come and go, the metrics have at most `max + 1` series per metric. Each label set is made
 * once and handed out again, so counting an event allocates nothing here.
 */
export class QueueLabels {
  readonly #max: number;
  readonly #named = new Map<string, QueueLabel>();
  readonly #other: QueueLabel = Object.freeze({ queue: OTHER_QUEUE });

  constructor(max: number) {
    this.#max = max;
  }

  of(queue: string): QueueLabel {
    const known = this.#named.get(queue);
    if (known) return known;
    if (this.#named.size >= this.#max) return this.#other;
    const label = Object.freeze({ queue });
    this.#named.set(queue, label);
    return label;
  }
}
