import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Job, Lease } from '../core/job.ts';
import type { Subscription, SubscriptionHandlers } from '../worker/consumer.ts';
import { QueueDispatcher, type CreditSubscription } from './dispatcher.ts';
import type { Inflight } from './inflight.ts';
import type { ConsumerAnnouncement } from '../store/queue-stats.ts';

export interface DispatchHooks {
  /** Leases up to `limit` jobs of `queue` a worker with `tags` may take (`heldUntil`: a rate limit held jobs back); reports its own failures and then resolves to none. */
  claim(queue: string, limit: number, tags: readonly string[]): Promise<Job[] & { heldUntil?: number }>;
  /** Gives a claimed job back (its subscriber went away meanwhile). */
  release(lease: Lease): Promise<void>;
  /** Resolves once the queue's settings are known, so the first claim can use them. */
  ready(queue: string): Promise<unknown>;
  readonly claimBatchMax: number;
  readonly claimsInFlightMax: number;
  readonly pollIntervalMs: number;
  /** What this process consumes changed (a subscriber came or went): see {@link Dispatch.consumers}. */
  changed?(): void;
  /** Wakes the consumers of `queue` in other processes (a store that can: PostgreSQL's NOTIFY); reports its own failures. */
  wakeOthers?(queue: string): Promise<void>;
}

/**
 * The push side of the engine: one dispatcher per queue with subscribers, wake-ups by
 * queue, and a slow fallback poll while consumers wait (for jobs other processes wrote,
 * or notifications lost while a connection was down).
 */
export class Dispatch {
  readonly #clock: Clock;
  readonly #hooks: DispatchHooks;
  readonly #inflight: Inflight;
  readonly #dispatchers = new Map<string, QueueDispatcher>();
  /** Releases of jobs claimed for subscribers that had gone, and wake-ups of other processes; `stop()` waits for them. */
  readonly #givingBack = new Set<Promise<unknown>>();
  #pollTimer: TimerHandle | null = null;
  #stopped = false;

  constructor(clock: Clock, hooks: DispatchHooks, inflight: Inflight) {
    this.#clock = clock;
    this.#hooks = hooks;
    this.#inflight = inflight;
  }

  subscribe(queue: string, handlers: SubscriptionHandlers): Subscription {
    return this.#dispatcher(queue).subscribe(handlers);
  }

  /** Every open subscription, with its queue. */
  *subscriptions(): Iterable<{ queue: string; sub: CreditSubscription }> {
    for (const [queue, d] of this.#dispatchers) for (const sub of d.subscriptions()) yield { queue, sub };
  }

  /** Per queue with subscribers: their unspent credits (free worker slots). */
  credits(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [queue, d] of this.#dispatchers) if (d.subscriberCount > 0) out.set(queue, d.credits);
    return out;
  }

  /** What this process consumes, for the registry: per queue and set of resource tags, its subscribers' capacity together. */
  consumers(): ConsumerAnnouncement[] {
    const out = new Map<string, ConsumerAnnouncement>();
    for (const [queue, d] of this.#dispatchers) {
      for (const sub of d.subscriptions()) {
        const key = `${queue}\n${sub.tagKey}`;
        const a = out.get(key);
        if (a) a.capacity += sub.capacity;
        else out.set(key, { queue, tags: [...sub.tags], capacity: sub.capacity });
      }
    }
    return [...out.values()];
  }

  /**
   * Whether this process's subscribers of `queue` will take the ready jobs `ids` (none requires
   * a resource tag) themselves, so their add need not wake other processes: see
   * {@link QueueDispatcher.promise}. Only asked when other processes can be woken at all.
   */
  promise(queue: string, ids: readonly string[]): boolean {
    return this.#stopped ? false : (this.#dispatchers.get(queue)?.promise(ids) ?? false);
  }

  /** The add of promised jobs of `queue` ended (see {@link QueueDispatcher.written}). */
  written(queue: string, ids: readonly string[], stored: (i: number) => boolean): void {
    this.#dispatchers.get(queue)?.written(ids, stored);
  }

  /** Reserves credit of `queue`'s idle subscribers for `n` jobs an add leases in its insert (see {@link QueueDispatcher.handOut}). */
  handOut(queue: string, n: number): boolean {
    return this.#stopped ? false : (this.#dispatchers.get(queue)?.handOut(n) ?? false);
  }

  /** The insert of a hand-off to `queue`'s subscribers ended (see {@link QueueDispatcher.handedOut}). */
  handedOut(queue: string, n: number, jobs: Job[]): void {
    this.#dispatchers.get(queue)!.handedOut(n, jobs);
  }

  /** Jobs may be ready in `queue`: its subscribers (if any) claim. */
  wake(queue: string): void {
    this.#dispatchers.get(queue)?.wake();
  }

  wakeAll(): void {
    for (const d of this.#dispatchers.values()) d.wake();
  }

  /** Starts the fallback poll (once). */
  startPolling(): void {
    if (this.#pollTimer || this.#stopped) return;
    const poll = () => {
      this.#pollTimer = null;
      if (this.#stopped) return;
      for (const d of this.#dispatchers.values()) if (d.hungry) d.wake();
      this.#pollTimer = this.#clock.setTimeout(poll, this.#hooks.pollIntervalMs);
    };
    this.#pollTimer = this.#clock.setTimeout(poll, this.#hooks.pollIntervalMs);
  }

  /** Stops polling and waits until no claim is in flight and claimed jobs nobody took are handed back. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#pollTimer) this.#clock.clearTimeout(this.#pollTimer);
    await Promise.all([...this.#dispatchers.values()].map((d) => d.idle()));
    for (const d of this.#dispatchers.values()) d.abandon();
    await Promise.allSettled([...this.#givingBack]);
  }

  #dispatcher(queue: string): QueueDispatcher {
    let d = this.#dispatchers.get(queue);
    if (d) return d;
    const dispatcher = new QueueDispatcher({
      claimBatchMax: this.#hooks.claimBatchMax,
      claimsInFlightMax: this.#hooks.claimsInFlightMax,
      claim: (limit, tags) => this.#hooks.claim(queue, limit, tags),
      giveBack: (jobs) => {
        for (const j of jobs) {
          const p = this.#hooks.release({ jobId: j.id, token: j.leaseToken });
          this.#givingBack.add(p);
          void p.finally(() => this.#givingBack.delete(p));
        }
      },
      delivered: (job, sub) => this.#inflight.delivered(job, sub),
      changed: () => this.#hooks.changed?.(),
      wakeOthers: () => {
        const p = this.#hooks.wakeOthers?.(queue);
        if (!p) return;
        this.#givingBack.add(p);
        void p.finally(() => this.#givingBack.delete(p));
      },
    });
    this.#dispatchers.set(queue, dispatcher);
    void this.#hooks.ready(queue).then(() => dispatcher.wake(), () => dispatcher.wake());
    return dispatcher;
  }
}
