import type { Job } from '../core/job.ts';
import { covers } from '../core/resource-tags.ts';
import type { Subscription, SubscriptionHandlers } from '../worker/consumer.ts';

/** A subscriber as the dispatcher sees it: its handlers, resource tags and unspent credits. */
export class CreditSubscription implements Subscription {
  credits = 0;
  closed = false;
  readonly handlers: SubscriptionHandlers;
  /** The subscriber's resource tags (canonical), and them as one key: subscribers with equal tags claim together. */
  readonly tags: readonly string[];
  readonly tagKey: string;
  readonly #dispatcher: QueueDispatcher;
  /** The most credits it has held at once: its capacity when it announced none. */
  #peak = 0;

  constructor(dispatcher: QueueDispatcher, handlers: SubscriptionHandlers) {
    this.#dispatcher = dispatcher;
    this.handlers = handlers;
    this.tags = handlers.tags ?? [];
    this.tagKey = this.tags.join(',');
  }

  /** Jobs it can hold at once: the capacity it announced (a worker's concurrency), else the most credits it held. */
  get capacity(): number {
    return Math.max(1, this.handlers.capacity ?? 0, this.#peak);
  }

  /** Its share of capacity in use (0: idle, 1: full): the jobs it holds over its capacity. */
  get load(): number {
    const capacity = this.capacity;
    return (capacity - this.credits) / capacity;
  }

  addCredits(n: number): void {
    if (this.closed) return;
    this.credits += n;
    if (this.credits > this.#peak) this.#peak = this.credits;
    this.#dispatcher.room();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.credits = 0;
    this.#dispatcher.remove(this);
  }
}

export interface DispatcherHooks {
  /**
   * Leases up to `limit` jobs of the queue that a worker with `tags` may take; `heldUntil` when a
   * rate limit held jobs back. Reports its own failures and then resolves to no jobs.
   */
  claim(limit: number, tags: readonly string[]): Promise<Job[] & { heldUntil?: number }>;
  /** Hands back jobs no subscriber could take (all closed meanwhile). */
  giveBack(jobs: Job[]): void;
  /** Records a delivery so cancels and reaps can reach the subscriber. */
  delivered(job: Job, to: CreditSubscription): void;
  readonly claimBatchMax: number;
  /** Most claims of the queue on their way at once (the claimsInFlightMax setting). */
  readonly claimsInFlightMax: number;
  /** A subscriber came or went (what the process consumes changed). */
  changed?(): void;
  /** Wakes the queue's consumers in other processes: jobs promised here (see promise()) that no claim here will take. */
  wakeOthers?(): void;
}

/**
 * Push dispatch for one queue. Subscribers announce credits; a wake-up (an add, a due timer, a
 * reaped lease, a poll) or a returned credit (see room()) claims, per set of resource tags among the
 * subscribers, up to those subscribers' unreserved credit in one store call, and deals each job
 * to the least loaded subscriber able to take it. Up to `claimsInFlightMax` claims run at once:
 * a wake-up while one is on its way starts another for the credit it did not reserve, so a job
 * added meanwhile need not wait for a claim that began before it was written to come back.
 * With more than one allowed, each claim asks for at most `#batch` jobs: as many as the last
 * claim found, doubled (all the credit while claims come back full, a few while the queue is
 * nearly empty), so a trickle of adds leaves credit unreserved for the next claim. Wake-ups
 * while claims are on their way are remembered, never lost, and many wake-ups in one tick cost
 * one pass.
 */
export class QueueDispatcher {
  readonly #subs = new Set<CreditSubscription>();
  readonly #hooks: DispatcherHooks;
  /** Claims on their way, and the credit each tag set has reserved with them. */
  #inflight = 0;
  readonly #reserved = new Map<string, number>();
  /** Wake-ups so far; tag sets whose last claim came back short with no wake-up since it began (nothing to claim until the next). */
  #wakes = 0;
  readonly #drained = new Set<string>();
  /** Of those, the sets a rate limit held short: jobs wait there, so a returned credit claims again. */
  readonly #held = new Set<string>();
  #scheduled = false;
  /** The most jobs the next claim asks for (see the class comment). */
  #batch: number;
  #idle: (() => void)[] = [];
  /** Where the next deal starts looking in the subscribers' order: after the one served last. */
  #cursor = 0;
  /** Jobs an add of this process left to these subscribers (see promise()): not yet written; written, not yet claimed. */
  readonly #promisedUnwritten = new Set<string>();
  #promisedWritten: string[] = [];
  /** Credit reserved by hand-offs whose insert has not ended (see handOut()). */
  #handing = 0;

  constructor(hooks: DispatcherHooks) {
    this.#hooks = hooks;
    this.#batch = hooks.claimBatchMax;
  }

  subscribe(handlers: SubscriptionHandlers): CreditSubscription {
    const sub = new CreditSubscription(this, handlers);
    this.#subs.add(sub);
    this.#hooks.changed?.();
    return sub;
  }

  remove(sub: CreditSubscription): void {
    if (!this.#subs.delete(sub)) return;
    this.#hooks.changed?.();
    if (this.#subs.size === 0) this.abandon();
  }

  /**
   * An add of this process asks whether these subscribers will take `ids` (ready jobs any of
   * them may run) themselves, so that other processes need not be woken for them (the herd a
   * cross-process wake-up per add would start). Yes when their credit, less what earlier
   * promises hold, covers them (a claim on its way that began before the jobs were written may
   * use that credit: if it comes back full, the jobs go to the next claim or to the others, as
   * below); the ids are then held against it until a claim that began after they were written
   * comes back. A full claim that did not bring them leaves them to the next claim, or, with no
   * credit left here, wakes the other processes.
   */
  promise(ids: readonly string[]): boolean {
    if (this.#subs.size === 0 || this.credits - this.#promisedUnwritten.size - this.#promisedWritten.length < ids.length) return false;
    for (const id of ids) this.#promisedUnwritten.add(id);
    return true;
  }

  /**
   * The add of promised jobs ended: those `ids[i]` with `stored(i)` were written, the others
   * were not (refused, or a key named another job). The subscribers claim; a promise dropped meanwhile (they all
   * went) wakes the other processes instead.
   */
  written(ids: readonly string[], stored: (i: number) => boolean): void {
    let orphaned = false;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const held = this.#promisedUnwritten.delete(id);
      if (!stored(i)) continue;
      if (held) this.#promisedWritten.push(id);
      else orphaned = true;
    }
    if (orphaned) this.#hooks.wakeOthers?.();
    this.wake();
  }

  /**
   * An add asks to lease `n` ready jobs (any subscriber may run them) to these subscribers in its
   * own insert (see hand-off.ts). Yes only when nothing else can be waiting for them: no claim on
   * its way, no promised jobs, and every tag set with credit came back short from its last claim
   * with no wake-up since; and their credit, less what other hand-offs reserved, covers `n`. The
   * credit stays reserved until handedOut(). Any wake-up meanwhile (another add, a due timer, a
   * notification) ends the idle state, and the adds after it claim as before.
   */
  handOut(n: number): boolean {
    if (this.#subs.size === 0 || this.#inflight > 0 || this.#promisedUnwritten.size > 0 || this.#promisedWritten.length > 0) return false;
    let free = -this.#handing;
    for (const s of this.#subs) {
      if (s.credits <= 0) continue;
      if (!this.#drained.has(s.tagKey) || this.#held.has(s.tagKey)) return false;
      free += s.credits;
    }
    if (free < n) return false;
    this.#handing += n;
    return true;
  }

  /** The insert of a hand-off of `n` ended: `jobs` (those it stored, leased) are dealt out as a claim's; the rest of the credit is free again. */
  handedOut(n: number, jobs: Job[]): void {
    this.#handing -= n;
    try {
      if (jobs.length > 0) this.#distribute(jobs);
    } finally {
      if (jobs.length < n) this.room();
      this.#resolveIdle();
    }
  }

  /** No claim here will take the jobs promised (the last subscriber left, or the process stops): other processes are woken for them. */
  abandon(): void {
    if (this.#promisedUnwritten.size === 0 && this.#promisedWritten.length === 0) return;
    this.#promisedUnwritten.clear();
    this.#promisedWritten = [];
    this.#hooks.wakeOthers?.();
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

  /** Jobs may be ready (an add, a due timer, a reaped or released lease, a freed key slot, a poll): every tag set claims again. */
  wake(): void {
    this.#wakes++;
    this.#drained.clear();
    this.#held.clear();
    this.room();
  }

  /**
   * A subscriber has room: a tag set with credit claims unless its last claim came back short
   * with no wake-up since (and no rate limit holding jobs back). A returned credit says nothing
   * of new jobs (a job whose ack frees a key's slot wakes the queue itself: leases.ts), so it
   * costs no empty claim.
   */
  room(): void {
    for (const key of this.#held) this.#drained.delete(key);
    this.#held.clear();
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pass();
    });
  }

  /** Resolves when no claim is on its way (used on close, so claimed jobs are handed back before the store closes). */
  async idle(): Promise<void> {
    while (this.#inflight > 0 || this.#handing > 0 || this.#scheduled) {
      if (this.#inflight > 0 || this.#handing > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Wakes idle() once no claim and no hand-off is on its way. */
  #resolveIdle(): void {
    if (this.#inflight === 0 && this.#handing === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /**
   * Starts a claim per tag set with unreserved credit and something to claim, more tags first
   * (the store leases only jobs a subscriber of the set can take, so no job is claimed that
   * nobody here could run), while fewer than claimsInFlightMax are on their way. A set left out
   * for want of credit or of a free claim is looked at again when a claim comes back.
   */
  #pass(): void {
    const sets = new Map<string, readonly string[]>();
    for (const s of this.#subs) if (s.credits > 0 && !sets.has(s.tagKey) && !this.#drained.has(s.tagKey)) sets.set(s.tagKey, s.tags);
    for (const [key, tags] of [...sets].sort((a, b) => b[1].length - a[1].length)) {
      if (this.#inflight >= this.#hooks.claimsInFlightMax) return;
      let credit = -(this.#reserved.get(key) ?? 0) - this.#handing;
      for (const s of this.#subs) if (s.tagKey === key) credit += s.credits;
      if (credit > 0) this.#claim(key, tags, Math.min(credit, this.#batch));
    }
    // Written promised jobs that no claim here is on its way for: no credit left to take them.
    if (this.#promisedWritten.length > 0 && this.#inflight === 0) {
      this.#promisedWritten = [];
      this.#hooks.wakeOthers?.();
    }
  }

  #claim(key: string, tags: readonly string[], want: number): void {
    this.#inflight++;
    this.#reserved.set(key, (this.#reserved.get(key) ?? 0) + want);
    const since = this.#wakes;
    // The promised jobs already written: this claim sees them (any tag set may take them).
    const covering = this.#promisedWritten;
    this.#promisedWritten = [];
    const settle = (jobs: Job[] & { heldUntil?: number }) => {
      this.#inflight--;
      // A short claim left nothing claimable behind: promised jobs it did not bring were taken
      // elsewhere (or are gone). A full one may have: those go to the next claim.
      if (covering.length > 0 && jobs.length === want) {
        const got = new Set(jobs.map((j) => j.id));
        for (const id of covering) if (!got.has(id)) this.#promisedWritten.push(id);
      }
      this.#reserved.set(key, this.#reserved.get(key)! - want);
      // A full claim: the backlog is at least this big, ask for more next time; a short one: it was
      // this big. Only worth it when another claim can use the credit left unreserved.
      if (this.#hooks.claimsInFlightMax > 1) this.#batch = Math.min(this.#hooks.claimBatchMax, Math.max(2, 2 * (jobs.length === want ? Math.max(want, this.#batch) : jobs.length)));
      // Short, and nothing woke the queue while it was on its way: the set has nothing to claim
      // until a wake-up, or, when a rate limit held jobs back, a returned credit (as its timer).
      if (jobs.length < want && this.#wakes === since) {
        this.#drained.add(key);
        if (jobs.heldUntil !== undefined) this.#held.add(key);
      }
      try {
        this.#distribute(jobs);
      } finally {
        this.#pass();
        this.#resolveIdle();
      }
    };
    // On failure: none (the hook reports it); the next wake-up or poll tries again.
    void this.#hooks.claim(want, tags).then(settle, () => settle([]));
  }

  /**
   * Deals each job to the least loaded subscriber (the smallest share of its capacity in use)
   * whose tags cover the job's `requires`; among equally loaded ones, the first after the one
   * served last, so under a light load (a job or two per claim) the jobs go round the
   * subscribers rather than all to the first in line. Jobs were claimed for the credit of
   * subscribers able to take them, so none is left over unless those closed meanwhile.
   * O(jobs × subscribers) per claim.
   */
  #distribute(jobs: Job[]): void {
    const batches = new Map<CreditSubscription, Job[]>();
    const subs = [...this.#subs];
    const n = subs.length;
    const left: Job[] = [];
    for (const job of jobs) {
      let best = -1;
      let bestLoad = Infinity;
      for (let k = 0; k < n; k++) {
        const at = (this.#cursor + k) % n;
        const s = subs[at]!;
        if (s.credits <= 0 || !covers(s.tags, job.requires ?? [])) continue;
        const load = s.load;
        if (load < bestLoad) {
          best = at;
          bestLoad = load;
        }
      }
      if (best < 0) {
        left.push(job);
        continue;
      }
      const s = subs[best]!;
      s.credits--;
      let batch = batches.get(s);
      if (!batch) batches.set(s, (batch = []));
      batch.push(job);
      this.#hooks.delivered(job, s);
      this.#cursor = (best + 1) % n;
    }
    if (left.length > 0) this.#hooks.giveBack(left);
    for (const [s, batch] of batches) s.handlers.deliver(batch);
  }
}
