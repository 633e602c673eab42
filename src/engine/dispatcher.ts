import type { Job } from '../core/job.ts';
import type { Subscription, SubscriptionHandlers } from '../worker/consumer.ts';

/** A subscriber as the dispatcher sees it: its handlers and unspent credits. */
export class CreditSubscription implements Subscription {
  credits = 0;
  closed = false;
  readonly handlers: SubscriptionHandlers;
  readonly #dispatcher: QueueDispatcher;

  constructor(dispatcher: QueueDispatcher, handlers: SubscriptionHandlers) {
    this.#dispatcher = dispatcher;
    this.handlers = handlers;
  }

  addCredits(n: number): void {
    if (this.closed) return;
    this.credits += n;
    this.#dispatcher.wake();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.credits = 0;
    this.#dispatcher.remove(this);
  }
}

export interface DispatcherHooks {
  /** Leases up to `limit` jobs of the queue. Reports its own failures and then resolves to no jobs. */
  claim(limit: number): Promise<Job[]>;
  /** Hands back jobs no subscriber could take (all closed meanwhile). */
  giveBack(jobs: Job[]): void;
  /** Records a delivery so cancels and reaps can reach the subscriber. */
  delivered(job: Job, to: CreditSubscription): void;
  readonly claimBatchMax: number;
}

/**
 * Push dispatch for one queue. Subscribers announce credits; a wake-up
 * (an add, a returned credit, a due timer, a reaped lease, a poll) claims up
 * to the total credit in one store call and spreads the jobs across
 * subscribers. Wake-ups during a claim are remembered, never lost, and many
 * wake-ups in one tick cost one claim.
 */
export class QueueDispatcher {
  readonly #subs = new Set<CreditSubscription>();
  readonly #hooks: DispatcherHooks;
  #running = false;
  #again = false;
  #scheduled = false;
  #runDone: Promise<void> = Promise.resolve();
  /** Where the next distribution starts in the subscribers' order: after the one served last. */
  #cursor = 0;
  #next = 0;

  constructor(hooks: DispatcherHooks) {
    this.#hooks = hooks;
  }

  subscribe(handlers: SubscriptionHandlers): CreditSubscription {
    const sub = new CreditSubscription(this, handlers);
    this.#subs.add(sub);
    return sub;
  }

  remove(sub: CreditSubscription): void {
    this.#subs.delete(sub);
  }

  get subscriberCount(): number {
    return this.#subs.size;
  }

  subscriptions(): Iterable<CreditSubscription> {
    return this.#subs;
  }

  /** Credits its subscribers have not spent: free worker slots. */
  get credits(): number {
    let n = 0;
    for (const s of this.#subs) n += s.credits;
    return n;
  }

  /** True when some subscriber is waiting for jobs. */
  get hungry(): boolean {
    for (const s of this.#subs) if (s.credits > 0) return true;
    return false;
  }

  wake(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#run();
    });
  }

  /** Resolves when no claim is in flight (used on close, so claimed jobs are handed back before the store closes). */
  async idle(): Promise<void> {
    while (this.#running || this.#scheduled) {
      await this.#runDone;
      if (this.#scheduled) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  #run(): Promise<void> {
    if (this.#running) return this.#runDone;
    this.#running = true;
    this.#runDone = this.#loop();
    return this.#runDone;
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false;
        let want = 0;
        for (const s of this.#subs) want += s.credits;
        want = Math.min(want, this.#hooks.claimBatchMax);
        if (want === 0) break;
        const jobs = await this.#hooks.claim(want); // on failure: none; the next wake-up or poll tries again
        this.#distribute(jobs);
        if (jobs.length === want) this.#again = true;
      } while (this.#again);
    } finally {
      this.#running = false;
    }
  }

  #distribute(jobs: Job[]): void {
    const batches = new Map<CreditSubscription, Job[]>();
    const subs = [...this.#subs];
    let i = 0;
    // Round-robin one job at a time, so subscribers share a short backlog fairly, starting after
    // the subscriber served last: under a light load (a job or two per claim) the first one in
    // line would otherwise get every job while the others sat idle with their credits.
    while (i < jobs.length && subs.length > 0) {
      let gave = false;
      for (let k = 0; k < subs.length && i < jobs.length; k++) {
        const s = subs[(this.#cursor + k) % subs.length]!;
        if (s.credits <= 0) continue;
        s.credits--;
        const job = jobs[i++]!;
        let batch = batches.get(s);
        if (!batch) batches.set(s, (batch = []));
        batch.push(job);
        this.#hooks.delivered(job, s);
        gave = true;
        this.#next = (this.#cursor + k + 1) % subs.length;
      }
      this.#cursor = this.#next;
      if (!gave) break;
    }
    if (i < jobs.length) this.#hooks.giveBack(jobs.slice(i));
    for (const [s, batch] of batches) s.handlers.deliver(batch);
  }
}
