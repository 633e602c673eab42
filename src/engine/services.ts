/**
 * Background work as a list of named services with one interface. Each maintenance tick
 * runs the leader services (in one process at a time on a shared store, inside the
 * leader's fenced transaction), then applies what they asked for on this process (aborting
 * handlers whose lease ended, waking consumers) once that transaction has committed, then
 * starts the upkeep services outside any transaction. Adding a service (cron firing, alert
 * rules, rate-limit refills) is a file like the ones below and a line in {@link defaultServices}.
 */
import { StaleLeaseError } from '../core/errors.ts';
import type { Lease } from '../core/job.ts';
import type { Store } from '../store/store.ts';
import { deleteFinished, reapLeases } from './duties.ts';
import { processRetirement } from './process-retirement.ts';
import { flowSweep } from './flows.ts';
import type { EngineSettings } from './options.ts';

/** What a service may ask of this process, applied after its work committed. */
export interface ServiceEffects {
  /** A lease ended: abort the handler that holds exactly it. */
  revoke(lease: Lease, reason: Error): void;
  /** Jobs became ready in `queue`: wake its consumers. */
  wake(queue: string): void;
  /** The lease reaper ended leases in this tick: how many, per queue (one call per tick, for logs). */
  reaped?(queues: Record<string, number>): void;
}

export interface ServiceRun {
  readonly now: number;
  /** Ticks since this process started maintenance (services that run less often count on it). */
  readonly tick: number;
  /** This process's registration in a shared store (never presumed dead by itself), or null. */
  readonly self: string | null;
  /** Queues an effect for after the commit. */
  after(effect: (e: ServiceEffects) => void): void;
}

export interface Service {
  /** Stable name, for logs and errors. */
  readonly name: string;
  /**
   * `leader`: once per tick in the one process that leads, inside its fenced transaction
   * (the store passed is bound to it). `upkeep`: in the leader, after the transaction, in the
   * background; the next tick does not wait for it.
   */
  readonly scope: 'leader' | 'upkeep';
  /** Runs every this many ticks (1: every tick). */
  readonly everyTicks: number;
  run(store: Store, run: ServiceRun): Promise<void>;
}

/** Ends expired leases and the leases of dead processes; revokes exactly those leases here. */
export const leaseReaper: Service = {
  name: 'lease-reaper',
  scope: 'leader',
  everyTicks: 1,
  async run(store, { now, after, self }) {
    const reaped = await reapLeases(store, now, self);
    if (reaped.length === 0) return;
    after((e) => {
      const queues = new Map<string, number>();
      for (const r of reaped) {
        e.revoke({ jobId: r.id, token: r.token }, new StaleLeaseError(r.id, r.token, r.state, r.token));
        if (r.state === 'ready') e.wake(r.queue);
        queues.set(r.queue, (queues.get(r.queue) ?? 0) + 1);
      }
      e.reaped?.(Object.fromEntries(queues));
    });
  },
};

/** Deletes finished jobs past their retention. */
export function retention(settings: Pick<EngineSettings, 'retention'>): Service {
  return {
    name: 'retention',
    scope: 'leader',
    everyTicks: 30,
    run: async (store, { now }) => void (await deleteFinished(store, now, settings.retention)),
  };
}

/** Idempotency keys deleted per statement, and statements per tick: bounded, so one tick stays short. */
const KEYS_BATCH = 1000;
const KEYS_BATCHES_PER_TICK = 10;

/**
 * Forgets the idempotency keys of adds past `idempotencyWindowMs`, in bounded batches (what is
 * left waits for the next tick). Only space: an insert already treats a key past the window as absent.
 */
export function publishKeyExpiry(settings: Pick<EngineSettings, 'idempotencyWindowMs'>): Service {
  return {
    name: 'publish-key-expiry',
    scope: 'leader',
    everyTicks: 1,
    async run(store, { now }) {
      for (let i = 0; i < KEYS_BATCHES_PER_TICK; i++) {
        if ((await store.idempotencyKeysDelete({ before: now - settings.idempotencyWindowMs, limit: KEYS_BATCH })) < KEYS_BATCH) return;
      }
    },
  };
}

/** Jobs past their start deadline moved to dead per statement, and statements per tick: bounded, so one tick stays short. */
const EXPIRE_BATCH = 1000;
const EXPIRE_BATCHES_PER_TICK = 10;

/**
 * Moves jobs not started by their deadline (the `ttlMs` add option) to dead, in bounded batches
 * (what is left waits for the next tick), so they end up dead in a queue nobody claims from too.
 * A claim does the same for its own queue before it leases, so a consumer never sees one.
 */
export const ttlSweep: Service = {
  name: 'ttl-sweep',
  scope: 'leader',
  everyTicks: 1,
  async run(store, { now }) {
    for (let i = 0; i < EXPIRE_BATCHES_PER_TICK; i++) {
      const per = await store.jobsExpire({ now, limit: EXPIRE_BATCH });
      if (Object.values(per).reduce((a, b) => a + b, 0) < EXPIRE_BATCH) return;
    }
  },
};

/** Key buckets read per statement, and statements per tick: bounded, so one tick stays short. */
const KEY_BUCKETS_BATCH = 1000;
const KEY_BUCKETS_BATCHES_PER_TICK = 10;

/**
 * Deletes the per-key rate limit buckets that are full (a key that has not started a job for
 * `burst · perMs / rate` ms): a full bucket is what a key without a row has, so claims see no
 * difference, and the table keeps a row only per key used lately. Sweeps the buckets in name
 * order a bounded batch at a time, going on from where the last tick stopped.
 */
export function keyBucketSweep(): Service {
  let after = '';
  return {
    name: 'key-bucket-sweep',
    scope: 'leader',
    everyTicks: 30,
    async run(store, { now }) {
      for (let i = 0; i < KEY_BUCKETS_BATCHES_PER_TICK; i++) {
        const { next } = await store.rateLimitsDropFull({ now, after, limit: KEY_BUCKETS_BATCH });
        after = next ?? '';
        if (next === null) return;
      }
    },
  };
}

/** How often the leader may vacuum the hot table (it does only when dead rows piled up). */
const VACUUM_EVERY_MS = 5000;

/** The leader's table upkeep (PostgreSQL: vacuum when dead rows piled up), at most every 5 s. */
export function vacuum(): Service {
  let lastAt = -Infinity;
  return {
    name: 'vacuum',
    scope: 'upkeep',
    everyTicks: 1,
    async run(store, { now }) {
      if (!store.tablesVacuum || now - lastAt < VACUUM_EVERY_MS) return;
      lastAt = now;
      await store.tablesVacuum();
    },
  };
}

/**
 * Folds the job count deltas into the counts (PostgreSQL's countsRollup), so stats read a few
 * rows per queue. Last among the leader services: it folds what the others changed in this tick.
 */
export const countsRollup: Service = {
  name: 'counts-rollup',
  scope: 'leader',
  everyTicks: 1,
  run: async (store) => void (await store.countsRollup?.()),
};

/** The services every engine runs, in order. */
export function defaultServices(settings: Pick<EngineSettings, 'retention' | 'idempotencyWindowMs'>): Service[] {
  return [leaseReaper, ttlSweep, flowSweep(), retention(settings), publishKeyExpiry(settings), keyBucketSweep(), processRetirement, countsRollup, vacuum()];
}

/**
 * Runs the services due at `tick`: the leader ones in one fenced duty (or directly on a store
 * without leadership), then their effects, then the upkeep ones in the background.
 * @returns whether this process led, and the upkeep started (awaited on close).
 */
export async function runServices(
  store: Store,
  services: readonly Service[],
  p: { leaderId: string | null; leaseMs: number; now: number; tick: number; effects: ServiceEffects; onError: (err: unknown, service: string) => void },
): Promise<{ led: boolean; upkeep: Promise<void> }> {
  const due = services.filter((s) => p.tick % s.everyTicks === 0);
  const pending: ((e: ServiceEffects) => void)[] = [];
  const run: ServiceRun = { now: p.now, tick: p.tick, self: p.leaderId, after: (effect) => void pending.push(effect) };
  const duty = async (s: Store): Promise<void> => {
    for (const service of due) if (service.scope === 'leader') await service.run(s, run);
  };
  let led = true;
  if (store.asLeader && p.leaderId !== null) led = (await store.asLeader('maintenance', p.leaderId, p.leaseMs, duty)).led;
  else await duty(store);
  if (!led) return { led, upkeep: Promise.resolve() };
  for (const effect of pending) effect(p.effects);
  const upkeep = Promise.all(
    due.filter((s) => s.scope === 'upkeep').map((s) => s.run(store, run).catch((err) => p.onError(err, s.name))),
  ).then(() => {});
  return { led, upkeep };
}

/**
 * An engine's services on one store: runs a tick of them as {@link runServices} does, and
 * keeps the upkeep they start, so closing waits for it.
 */
export class ServiceRunner {
  readonly #store: Store;
  readonly #services: readonly Service[];
  readonly #effects: ServiceEffects;
  readonly #onError: (err: unknown, service: string) => void;
  readonly #onLeadership: ((led: boolean) => void) | undefined;
  /** Whether the last tick led, on a store with leadership; null before the first. */
  #led: boolean | null = null;
  #upkeep: Promise<void> = Promise.resolve();

  /** `onLeadership` hears each change of leadership on a store that has it: true when taken, false when lost. */
  constructor(store: Store, services: readonly Service[], effects: ServiceEffects, onError: (err: unknown, service: string) => void, onLeadership?: (led: boolean) => void) {
    this.#store = store;
    this.#services = services;
    this.#effects = effects;
    this.#onError = onError;
    this.#onLeadership = onLeadership;
  }

  async tick(p: { leaderId: string | null; leaseMs: number; now: number; tick: number }): Promise<void> {
    const { led, upkeep } = await runServices(this.#store, this.#services, { ...p, effects: this.#effects, onError: this.#onError });
    this.#upkeep = Promise.all([this.#upkeep, upkeep]).then(() => {});
    if (this.#store.asLeader && p.leaderId !== null && led !== this.#led) {
      const before = this.#led;
      this.#led = led;
      if (led || before !== null) this.#onLeadership?.(led); // never having led is not a loss
    }
  }

  /** Resolves when the upkeep started so far has ended. */
  settled(): Promise<void> {
    return this.#upkeep;
  }
}
