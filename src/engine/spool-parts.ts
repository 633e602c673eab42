import { randomUUID } from 'node:crypto';
import { clockStepWatch, type Clock } from '../core/clock.ts';
import type { Lease, QueueStats } from '../core/job.ts';
import { LIMITS } from '../core/limits.ts';
import type { Store } from '../store/store.ts';
import { Dispatch } from './dispatch.ts';
import { Claims } from './claims.ts';
import { revokeTakenBack, type Inflight } from './inflight.ts';
import type { Telemetry } from './telemetry.ts';
import { HandOff } from './hand-off.ts';
import { Intake } from './intake.ts';
import { Routing } from './routing.ts';
import { Room } from './room.ts';
import { JobReads } from './job-reads.ts';
import { OverviewSource } from './overview-source.ts';
import { Upkeep } from './upkeep.ts';
import { Operator } from './operator.ts';
import { Membership } from './membership.ts';
import type { EngineSettings, OpenOptions } from './options.ts';
import { LeaseOps } from './leases.ts';
import { clockEvents, Signals } from './signals.ts';
import type { DrainDeps } from './drain.ts';
import { JobWaits } from './job-wait.ts';
import { QueueSettings } from './queue-settings.ts';
import { HeldQueues } from './held-queues.ts';
import { AlertRules } from './alert-rules.ts';
import { Cron } from './cron.ts';
import { Flows } from './flows.ts';
import { alertDelivery, alertEvaluation } from '../alerts/services.ts';

/**
 * The settings the maintenance tick runs on. On a store with a registry of processes, the tick
 * (and so the lease reaper) runs at least every half heartbeat: a dead process's registration
 * lapses 1.5 heartbeats after its last one, and its leases are then back within two.
 */
function upkeepSettings(settings: EngineSettings, store: Store): EngineSettings {
  if (!store.workerRegister) return settings;
  const halfHeartbeatMs = Math.max(LIMITS.maintenanceIntervalMs.min, Math.floor(settings.heartbeatIntervalMs / 2));
  return settings.maintenanceIntervalMs <= halfHeartbeatMs ? settings : { ...settings, maintenanceIntervalMs: halfHeartbeatMs };
}

/** What the parts call back into the Spool that owns them. */
export interface SpoolHost {
  readonly clock: Clock;
  readonly inflight: Inflight;
  readonly telemetry: Telemetry;
  markHealthy(): void;
  closed(): boolean;
  reportError(err: unknown, during: string): void;
  release(lease: Lease): Promise<void>;
  stats(queue: string): Promise<QueueStats[]>;
}

/** The parts a Spool delegates to, wired to one another. */
export interface SpoolParts {
  signals: Signals;
  queues: QueueSettings;
  membership: Membership | null;
  held: HeldQueues;
  claims: Claims;
  dispatch: Dispatch;
  room: Room;
  intake: Intake;
  routing: Routing;
  reads: JobReads;
  drain: DrainDeps;
  waits: JobWaits;
  overview: OverviewSource;
  leases: LeaseOps;
  operator: Operator;
  alerts: AlertRules;
  cron: Cron;
  flows: Flows;
  upkeep: Upkeep;
}

/** Builds a Spool's parts over `store` (see spool.ts): the wiring its constructor does. */
export function wireSpoolParts(store: Store, options: OpenOptions, settings: EngineSettings, host: SpoolHost): SpoolParts {
  const { clock, telemetry, inflight } = host;
  /** Whether this process led the upkeep at its last tick (stores with leadership). */
  let leading = false;
  const queues = new QueueSettings(store, clock, settings.settingsRefreshMs);
  const signals = new Signals(clock, options); // onEvent, the log of health changes, onError
  // Processes that consume from a shared store register (lazily, when a consumer starts or at their first claim) and send heartbeats.
  const membership = store.workerRegister
    ? new Membership({
        store, clock, health: signals.health, intervalMs: settings.heartbeatIntervalMs,
        onError: (err, startedAt) => signals.outages.probeFailed(err, 'heartbeat', startedAt),
        onRecovered: () => dispatch.wakeAll(),
        onPresumedDead: () => revokeTakenBack(store, inflight),
        consumers: () => dispatch.consumers(),
      })
    : null;
  const held = new HeldQueues(clock, (queue) => dispatch.wake(queue));
  const claims = new Claims({
    store, clock, queues, membership, telemetry,
    markHealthy: () => host.markHealthy(), closed: () => host.closed(),
    held: (queue, at) => held.hold(queue, at),
    probeFailed: (err, during, startedAt) => signals.outages.probeFailed(err, during, startedAt),
  });
  const dispatch = new Dispatch(
    clock,
    {
      claimBatchMax: settings.claimBatchMax,
      claimsInFlightMax: settings.claimsInFlightMax,
      pollIntervalMs: settings.pollIntervalMs,
      claim: (queue, limit, tags) => claims.claimOrNone(queue, limit, tags),
      release: (lease) => host.release(lease).catch((err) => host.reportError(err, 'release')),
      ready: (queue) => queues.get(queue),
      changed: () => membership?.announce(),
      ...(store.announceReady ? { wakeOthers: (queue: string) => store.announceReady!(queue).catch((err) => host.reportError(err, `wake the consumers of ${queue} elsewhere`)) } : {}),
    },
    inflight,
  );
  store.onReady?.((queue) => dispatch.wake(queue));
  const room = new Room(clock, settings.pollIntervalMs);
  // Jobs this process leases leave their queue's waiting jobs: adds waiting for room try again.
  telemetry.listen({ claimed: (queue) => room.freed(queue) });
  const intake = new Intake({
    store, clock, settings, queues, telemetry, room,
    markHealthy: () => host.markHealthy(), wake: (queue) => dispatch.wake(queue), noteDue: (at) => upkeep.noteDue(at),
    // Only a store that wakes other processes on an insert gains from adds this process serves itself.
    ...(store.capabilities.crossProcessNotify && store.announceReady ? {
      promise: (queue: string, ids: readonly string[]) => dispatch.promise(queue, ids),
      written: (queue: string, ids: readonly string[], stored: (i: number) => boolean) => dispatch.written(queue, ids, stored),
    } : {}),
    ...(store.insertLeaseToken === undefined ? {} : {
      handOff: new HandOff({
        token: store.insertLeaseToken, telemetry,
        reserve: (queue, n) => dispatch.handOut(queue, n),
        deliver: (queue, n, jobs) => dispatch.handedOut(queue, n, jobs),
        owner: () => (membership === null ? null : membership.started ? membership.id : undefined),
      }),
    }),
  });
  const routing = new Routing({
    store, clock, settings, queues, telemetry, room,
    markHealthy: () => host.markHealthy(), wake: (queue) => dispatch.wake(queue), noteDue: (at) => upkeep.noteDue(at),
  });
  const reads = new JobReads(store, clock, settings.searchScanMax, async (queue) => (await queues.get(queue)).rateLimit);
  const drain: DrainDeps = { clock, telemetry, pollIntervalMs: settings.pollIntervalMs, stats: async (q) => (await host.stats(q))[0]! };
  const waits = new JobWaits({
    clock, pollIntervalMs: settings.pollIntervalMs, get: (id) => reads.get(id), getMany: (ids) => store.jobsGet(ids),
    closed: () => host.closed(), reportError: (err) => host.reportError(err, 'reading the jobs waited on'),
  });
  const overview = new OverviewSource({
    clock, store, telemetry, inflight, dispatch,
    processId: membership?.id ?? randomUUID(), onError: (err) => host.reportError(err, 'publishing this process\'s snapshot'),
    // On a store with leadership one process leads the upkeep; on one without, each process with maintenance runs its own.
    leading: () => (store.asLeader ? leading : options.maintenance !== false),
  });
  const leases = new LeaseOps({
    store, clock, settings, inflight, queues, random: options.random ?? Math.random, telemetry,
    wake: (queue) => dispatch.wake(queue), noteDue: (at) => upkeep.noteDue(at), finished: (jobId) => waits.finished(jobId),
    flowChildFinished: (parentId) => flows.childFinished(parentId),
    owner: async () => (membership ? (await membership.start(), membership.id) : undefined),
  });
  const operator = new Operator({
    store, clock, revoke: (lease, reason) => inflight.revoke(lease, reason),
    wake: (queue) => dispatch.wake(queue), forgetQueue: (queue) => queues.forget(queue), searchScanMax: settings.searchScanMax,
    finished: (jobId) => waits.finished(jobId), flowJobsEnded: (ids) => flows.jobsEnded(ids),
  });
  const flows = new Flows({
    store, clock, settings, queues, telemetry, markHealthy: () => host.markHealthy(), reportError: (err, during) => host.reportError(err, during),
    wake: (queue) => dispatch.wake(queue), noteDue: (at) => upkeep.noteDue(at), finished: (jobId) => waits.finished(jobId),
  });
  const alerts = new AlertRules(store, clock, settings.alerts);
  const cron = new Cron({
    store, clock, settings, queues, reportError: (err, during) => host.reportError(err, during),
    added: (queue, count) => {
      telemetry.added(queue, count);
      dispatch.wake(queue);
    },
  });
  const alertDeps = { overview: () => overview.overview(false), settings: settings.alerts };
  const upkeep: Upkeep = new Upkeep({
    store, clock, settings: upkeepSettings(settings, store), background: options.maintenance !== false,
    effects: {
      revoke: (lease, reason) => inflight.revoke(lease, reason), wake: (queue) => dispatch.wake(queue),
      reaped: (queues) => {
        telemetry.expired(queues);
        signals.emit({ type: 'leases-reaped', count: Object.values(queues).reduce((a, b) => a + b, 0), queues });
      },
    },
    probeFailed: (err, during, startedAt) => signals.outages.probeFailed(err, during, startedAt),
    onLeadership: (led) => {
      leading = led;
      signals.emit({ type: 'leadership', led });
    },
    leaderId: () => membership?.id ?? null, wake: (queue) => dispatch.wake(queue), markHealthy: () => host.markHealthy(),
    services: [alertEvaluation(alertDeps), alertDelivery(alertDeps)],
    // A step of the machine's clock, told once per step (a caller's clock, a ManualClock, is never stepped).
    ticked: options.clock === undefined ? clockEvents(clockStepWatch(), (e) => signals.emit(e)) : undefined,
  });
  return { signals, queues, membership, held, claims, dispatch, room, intake, routing, reads, drain, waits, overview, leases, operator, alerts, cron, flows, upkeep };
}
