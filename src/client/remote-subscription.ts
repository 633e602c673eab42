import type { Job } from '../core/job.ts';
import type { Subscription, SubscriptionHandlers } from '../worker/consumer.ts';
import type { Connection } from './connection.ts';

/**
 * A push subscription over the wire. Credits granted in one tick go out as one `credit`
 * frame. After a reconnect the subscription is opened again on the new connection with
 * the credits still unspent; jobs that were on their way when the old connection broke
 * stay leased and come back after their visibility timeout.
 */
export class RemoteSubscription implements Subscription {
  readonly id: number;
  readonly queue: string;
  readonly handlers: SubscriptionHandlers;
  readonly #conn: Connection;
  readonly #onError: (err: unknown) => void;
  readonly #onClose: () => void;
  /** Credits granted by the consumer and not yet used by a delivery. */
  #credits = 0;
  /** Credits granted since the last frame, sent at the end of the tick. */
  #unsent = 0;
  #flushScheduled = false;
  /** Whether the broker has this subscription open on the current connection. */
  #open = false;
  closed = false;

  constructor(conn: Connection, id: number, queue: string, handlers: SubscriptionHandlers, hooks: { onError: (err: unknown) => void; onClose: () => void }) {
    this.#conn = conn;
    this.#onError = hooks.onError;
    this.#onClose = hooks.onClose;
    this.id = id;
    this.queue = queue;
    this.handlers = handlers;
  }

  addCredits(n: number): void {
    if (this.closed || n <= 0) return;
    this.#credits += n;
    this.#unsent += n;
    this.#schedule();
  }

  /** Called after a (re)connect: the new connection knows nothing of this subscription yet. */
  reopen(): void {
    this.#open = false;
    this.#unsent = 0;
    if (this.closed) return;
    const credits = this.#credits;
    // The worker's resource tags and capacity travel with every open: the broker deals by them.
    const { tags, capacity } = this.handlers;
    const frame = { op: 'subscribe' as const, sub: this.id, queue: this.queue, credits, ...(tags && tags.length > 0 ? { tags: [...tags] } : {}), ...(capacity ? { capacity } : {}) };
    this.#conn.request(frame, false).then(
      () => {
        this.#open = true;
        this.#schedule();
      },
      // Refused (e.g. no consume scope) or the connection dropped again: the next reconnect retries.
      (err) => {
        if ((err as { code?: string }).code !== 'CONNECTION_LOST') this.#onError(err);
      },
    );
  }

  /** Deliveries count against the credits. */
  delivered(jobs: Job[]): void {
    this.#credits = Math.max(0, this.#credits - jobs.length);
    this.handlers.deliver(jobs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#credits = 0;
    this.#onClose();
    if (this.#conn.connected) this.#conn.request({ op: 'unsubscribe', sub: this.id }, false).catch(() => {});
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (!this.#open || this.closed || this.#unsent === 0) return;
      this.#conn.post({ op: 'credit', sub: this.id, n: this.#unsent });
      this.#unsent = 0;
    });
  }
}
