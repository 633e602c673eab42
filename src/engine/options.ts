import type { Clock } from '../core/clock.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { checkLimit, describe } from '../core/limits.ts';
import { checkOptionKeys, checkOptionType } from '../core/options.ts';
import type { SqliteDurability } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';

/** Options for {@link Spool.open}. Every number is validated against docs/configuration.md. */
export interface OpenOptions {
  /**
   * Where jobs live: a data directory (default `./spool-data`), a `.db` file, `sqlite:<path>`,
   * `memory` (the production engine on a private in-memory database, for tests), or a Store instance.
   */
  store?: string | Store;
  /** What an acknowledged write survives; see {@link SqliteDurability}. Default `fsync`. */
  durability?: SqliteDurability;
  /** Time source; tests pass a ManualClock. */
  clock?: Clock;
  /** Run the lease reaper, delay promoter and retention cleanup in this process. Default true. */
  maintenance?: boolean;
  payloadMaxBytes?: number;
  resultMaxBytes?: number;
  errorMaxBytes?: number;
  progressMaxBytes?: number;
  jobLogMax?: number;
  jobLogLineMaxBytes?: number;
  addManyMax?: number;
  claimBatchMax?: number;
  claimsInFlightMax?: number;
  /** Most jobs one list (or bulk batch) filtered by a payload field examines. Default 10,000. */
  searchScanMax?: number;
  maintenanceIntervalMs?: number;
  pollIntervalMs?: number;
  /** How long queue settings and the paused flag are trusted before being read again. Default 1000 ms. */
  settingsRefreshMs?: number;
  completedRetentionMs?: number;
  deadRetentionMs?: number;
  cancelledRetentionMs?: number;
  busyTimeoutMs?: number;
  historyMax?: number;
  /** PostgreSQL store: the schema holding Spool's tables. Default `spool`. */
  schema?: string;
  /** PostgreSQL store: wake consumers in other processes with LISTEN/NOTIFY (default true). Set false behind a transaction-mode pooler; consumers then poll. */
  notify?: boolean;
  /** PostgreSQL store: longest one operator read (stats, listings, searches) may run. Default 10 s. */
  readTimeoutMs?: number;
  /** Called with errors from background work (a failed claim, reap or cleanup). Default: console.error, at most once per kind per minute. */
  onError?: (err: unknown, during: string) => void;
  /** Random source for backoff jitter, injectable for tests. */
  random?: () => number;
  heartbeatIntervalMs?: number;
  leaderLeaseMs?: number;
  /** How long an add's `idempotencyKey` is remembered per queue (AddOptions.idempotencyKey). Default 24 h, at least 1 s, at most 30 days. */
  idempotencyWindowMs?: number;
  /** Alert rules (see docs/operations.md, Alerts): most rules kept, events kept, one webhook call's timeout, calls per event. */
  alertRulesMax?: number;
  /** Most topic bindings a store keeps (see docs/routing.md). */
  bindingsMax?: number;
  /** Most children one flow may have (see docs/flows.md). */
  flowChildrenMax?: number;
  alertEventsMax?: number;
  alertWebhookTimeoutMs?: number;
  alertDeliveryAttempts?: number;
  /** Cron and repeat schedules (see docs/cron.md): most schedules a store keeps. Default 1000. */
  schedulesMax?: number;
  /** How late a schedule's slot may still be fired; older slots are missed (the schedule's catchUp decides). Default 5 s. */
  cronGraceMs?: number;
  /** Where one-line notices go (health changes). Default console.error. */
  log?: (line: string) => void;
  /** Hears what background work did, for logs and metrics: health changes, leases reaped (one event per tick), leadership taken or lost. */
  onEvent?: (event: SpoolEvent) => void;
  /**
   * How long an add to a full bounded queue (`maxLength`, overflow `reject`) waits for room before
   * it throws QueueFullError; woken when this process leases jobs of the queue, else every
   * `pollIntervalMs`. 0: refuse at once. Default 10 s, at most 5 min.
   */
  queueFullWaitMs?: number;
}

/** What {@link OpenOptions.onEvent} hears. */
export type SpoolEvent =
  /** The process cannot reach its store or claim (once per outage), with why. */
  | { type: 'unhealthy'; reason: string }
  /** It can again, after `downMs`. */
  | { type: 'healthy'; downMs: number }
  /** The lease reaper ended `count` leases in one tick (expired, or held by dead processes): how many per queue. */
  | { type: 'leases-reaped'; count: number; queues: Record<string, number> }
  /** This process took (`led: true`) or lost the leadership of maintenance on a shared store. */
  | { type: 'leadership'; led: boolean }
  /**
   * The machine's wall clock was stepped by more than a second (once per step; only with the
   * system clock): `offsetMs` is the wall clock minus Spool's time, positive when it jumped
   * forward. Spool's time does not jump: it catches up at most 10 % fast or slow.
   */
  | { type: 'clock-stepped'; offsetMs: number };

/** Every key of {@link OpenOptions}: anything else given to Spool.open is refused (the compiler keeps this list complete). */
const OPEN_OPTIONS: Record<keyof OpenOptions, true> = {
  store: true, durability: true, clock: true, maintenance: true, payloadMaxBytes: true, resultMaxBytes: true, errorMaxBytes: true,
  progressMaxBytes: true, jobLogMax: true, jobLogLineMaxBytes: true, addManyMax: true, claimBatchMax: true, claimsInFlightMax: true, searchScanMax: true, maintenanceIntervalMs: true, pollIntervalMs: true, settingsRefreshMs: true,
  completedRetentionMs: true, deadRetentionMs: true, cancelledRetentionMs: true, busyTimeoutMs: true, historyMax: true, schema: true,
  notify: true, readTimeoutMs: true, onError: true, random: true, heartbeatIntervalMs: true, leaderLeaseMs: true, log: true, onEvent: true,
  alertRulesMax: true, alertEventsMax: true, alertWebhookTimeoutMs: true, alertDeliveryAttempts: true, idempotencyWindowMs: true,
  queueFullWaitMs: true, schedulesMax: true, cronGraceMs: true, bindingsMax: true, flowChildrenMax: true,
};
export const OPEN_OPTION_KEYS: readonly (keyof OpenOptions)[] = Object.keys(OPEN_OPTIONS) as (keyof OpenOptions)[];

export type { AddItem, ListOptions } from '../api/contract.ts';

/** The engine's limits, validated once (before the store is opened). */
export interface EngineSettings {
  payloadMaxBytes: number;
  resultMaxBytes: number;
  errorMaxBytes: number;
  progressMaxBytes: number;
  jobLogMax: number;
  jobLogLineMaxBytes: number;
  addManyMax: number;
  claimBatchMax: number;
  claimsInFlightMax: number;
  searchScanMax: number;
  pollIntervalMs: number;
  settingsRefreshMs: number;
  maintenanceIntervalMs: number;
  heartbeatIntervalMs: number;
  leaderLeaseMs: number;
  /** How long an add's idempotency key is remembered. */
  idempotencyWindowMs: number;
  alerts: { rulesMax: number; eventsMax: number; webhookTimeoutMs: number; deliveryAttempts: number };
  retention: { completed: number; dead: number; cancelled: number };
  /** How long an add waits for room in a full bounded queue. */
  queueFullWaitMs: number;
  /** Cron and repeat schedules: most kept, and how late a slot may still be fired. */
  cron: { schedulesMax: number; graceMs: number };
  /** Most topic bindings a bind lets the store hold. */
  bindingsMax: number;
  /** Most children one addFlow may give. */
  flowChildrenMax: number;
}

/**
 * Validates every option of {@link OpenOptions}, including those the store uses, so a bad
 * value is refused before anything touches the disk.
 * @throws InvalidArgumentError naming the field and its bound.
 */
export function resolveSettings(options: OpenOptions): EngineSettings {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', `options must be an object (got ${describe(options)})`);
  checkOptionKeys(options, OPEN_OPTION_KEYS, 'Spool.open');
  if (options.store !== undefined && typeof options.store !== 'string') checkOptionType(options.store, 'store', 'object');
  checkOptionType(options.clock, 'clock', 'object');
  checkOptionType(options.maintenance, 'maintenance', 'boolean');
  checkOptionType(options.schema, 'schema', 'string');
  checkOptionType(options.notify, 'notify', 'boolean');
  for (const fn of ['onError', 'random', 'log', 'onEvent'] as const) checkOptionType(options[fn], fn, 'function');
  if (options.durability !== undefined && options.durability !== 'fsync' && options.durability !== 'no-fsync') {
    throw new InvalidArgumentError('durability', `durability must be 'fsync' or 'no-fsync' (got ${describe(options.durability)})`);
  }
  checkLimit('busyTimeoutMs', options.busyTimeoutMs);
  checkLimit('historyMax', options.historyMax);
  checkLimit('readTimeoutMs', options.readTimeoutMs);
  return {
    payloadMaxBytes: checkLimit('payloadMaxBytes', options.payloadMaxBytes),
    resultMaxBytes: checkLimit('resultMaxBytes', options.resultMaxBytes),
    errorMaxBytes: checkLimit('errorMaxBytes', options.errorMaxBytes),
    progressMaxBytes: checkLimit('progressMaxBytes', options.progressMaxBytes),
    jobLogMax: checkLimit('jobLogMax', options.jobLogMax),
    jobLogLineMaxBytes: checkLimit('jobLogLineMaxBytes', options.jobLogLineMaxBytes),
    addManyMax: checkLimit('addManyMax', options.addManyMax),
    claimBatchMax: checkLimit('claimBatchMax', options.claimBatchMax),
    claimsInFlightMax: checkLimit('claimsInFlightMax', options.claimsInFlightMax),
    searchScanMax: checkLimit('searchScanMax', options.searchScanMax),
    pollIntervalMs: checkLimit('pollIntervalMs', options.pollIntervalMs),
    settingsRefreshMs: checkLimit('settingsRefreshMs', options.settingsRefreshMs),
    maintenanceIntervalMs: checkLimit('maintenanceIntervalMs', options.maintenanceIntervalMs),
    heartbeatIntervalMs: checkLimit('heartbeatIntervalMs', options.heartbeatIntervalMs),
    leaderLeaseMs: checkLimit('leaderLeaseMs', options.leaderLeaseMs),
    idempotencyWindowMs: checkLimit('idempotencyWindowMs', options.idempotencyWindowMs),
    alerts: {
      rulesMax: checkLimit('alertRulesMax', options.alertRulesMax),
      eventsMax: checkLimit('alertEventsMax', options.alertEventsMax),
      webhookTimeoutMs: checkLimit('alertWebhookTimeoutMs', options.alertWebhookTimeoutMs),
      deliveryAttempts: checkLimit('alertDeliveryAttempts', options.alertDeliveryAttempts),
    },
    retention: {
      completed: checkLimit('completedRetentionMs', options.completedRetentionMs),
      dead: checkLimit('deadRetentionMs', options.deadRetentionMs),
      cancelled: checkLimit('cancelledRetentionMs', options.cancelledRetentionMs),
    },
    queueFullWaitMs: checkLimit('queueFullWaitMs', options.queueFullWaitMs),
    cron: { schedulesMax: checkLimit('schedulesMax', options.schedulesMax), graceMs: checkLimit('cronGraceMs', options.cronGraceMs) },
    bindingsMax: checkLimit('bindingsMax', options.bindingsMax),
    flowChildrenMax: checkLimit('flowChildrenMax', options.flowChildrenMax),
  };
}
