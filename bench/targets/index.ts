import type { Target, TargetContext } from '../target.ts';
import { BROKER_RUNS, MULTI_PROCESS_RUNS, QUEUE_SETTING_RUNS, TOPIC_RUNS, type RunKind } from '../workloads/catalog.ts';
import { isPeerId, LazyPeerTarget, PEER_IDS, PEERS, peerSkipReason, type PeerId } from './peers.ts';
import { SpoolEmbeddedTarget } from './spool-embedded.ts';
import { SpoolPostgresTarget } from './spool-postgres.ts';
import { SpoolServerTarget } from './spool-server.ts';
import { SpoolServerNoMetricsTarget } from './spool-server-nometrics.ts';

/** Every target id the workload definition names, in report order. */
export const TARGET_IDS = ['spool-embedded', 'spool-server', 'spool-postgres', 'bullmq', 'pg-boss', 'rabbitmq', 'nats'] as const;
/** Variants of a target, to measure what one of its features costs: run only when named with --target. */
export const VARIANT_IDS = ['spool-server-nometrics'] as const;
/** One of {@link TARGET_IDS} or {@link VARIANT_IDS}. */
export type TargetId = (typeof TARGET_IDS)[number] | (typeof VARIANT_IDS)[number];

interface TargetInfo {
  create: (context: TargetContext) => Target;
  /** Several processes can share its store (it implements `attachSpec`): W3-2w and W7 run on it. */
  multiProcess: boolean;
  /** Why the multi-process workloads are skipped, for a target that cannot run them. */
  singleProcessNote?: string;
  /** It is a broker process with client processes: the broker runs (C1000) run on it. */
  broker?: boolean;
  /** It has Spool's queue settings (`configureQueue`, `addJobs`): the W3 variants run on it. */
  queueSettings?: boolean;
  /** It needs a PostgreSQL server (the runner starts one, or uses SPOOL_BENCH_PG_URL). */
  needsPostgres: boolean;
  /** Run kinds it does not run, with the reason printed when they are skipped. */
  unsupported?: Partial<Record<RunKind, string>>;
}

/**
 * A peer (bench/targets/peers.ts): its code and client library are loaded from
 * bench/peers on setup, and it runs only when they are installed and its server is
 * given (`npm run bench:peers` does both).
 */
function peerTarget(id: PeerId): TargetInfo {
  return {
    create: (context) => new LazyPeerTarget(id, context),
    multiProcess: true,
    needsPostgres: PEERS[id].needsPostgres,
    unsupported: { C1000: 'C1000 is the spool-server broker with 1,000 idle WebSocket sessions, not defined for peers' },
  };
}

const TARGETS: Partial<Record<TargetId, TargetInfo>> = {
  'spool-embedded': {
    create: (context) => new SpoolEmbeddedTarget(context),
    multiProcess: false,
    singleProcessNote: 'the embedded deployment is one process (several processes on one SQLite file work, but that is not this deployment)',
    queueSettings: true,
    needsPostgres: false,
  },
  'spool-server': { create: (context) => new SpoolServerTarget(context), multiProcess: true, broker: true, queueSettings: true, needsPostgres: false },
  'spool-server-nometrics': { create: (context) => new SpoolServerNoMetricsTarget(context), multiProcess: true, broker: true, queueSettings: true, needsPostgres: false },
  'spool-postgres': { create: (context) => new SpoolPostgresTarget(context), multiProcess: true, queueSettings: true, needsPostgres: true },
  ...Object.fromEntries(PEER_IDS.map((id) => [id, peerTarget(id)])),
};

/** True when `id` names a target of the workload definition, or a variant of one. */
export function isTargetId(id: string): id is TargetId {
  return (TARGET_IDS as readonly string[]).includes(id) || (VARIANT_IDS as readonly string[]).includes(id);
}

/** True when the benchmark can run this target yet. */
export function isTargetImplemented(id: TargetId): boolean {
  return TARGETS[id] !== undefined;
}

/** True when the target runs this kind of run (multi-process runs need a shareable store, broker runs a broker). */
export function targetSupports(id: TargetId, run: RunKind): boolean {
  return skipReason(id, run) === null;
}

/** Why a target skips a kind of run, or null when it runs it. */
export function skipReason(id: TargetId, run: RunKind): string | null {
  const info = TARGETS[id];
  if (!info) return `target ${id} is not implemented yet`;
  if (isPeerId(id)) {
    const why = peerSkipReason(id);
    if (why !== null) return why;
  }
  const unsupported = info.unsupported?.[run];
  if (unsupported !== undefined) return unsupported;
  if (MULTI_PROCESS_RUNS.includes(run) && !info.multiProcess) {
    return `it needs several processes sharing one store, and ${info.singleProcessNote ?? 'it is a single-process target'}`;
  }
  if (BROKER_RUNS.includes(run) && !info.broker) return `it measures a broker process with its client connections, and ${id} has no broker`;
  if (QUEUE_SETTING_RUNS.some((r) => r.run === run) && !info.queueSettings) {
    return `it is W3 on a queue with Spool's scheduling policies or rate limit, which ${id} does not have`;
  }
  // Spool's targets are those with queue settings; they all have topics too.
  if (TOPIC_RUNS.some((r) => r.run === run) && !info.queueSettings) return `it publishes to Spool's topics (bindings to queues), which ${id} does not have`;
  return null;
}

/** True when the target needs a PostgreSQL server. */
export function targetNeedsPostgres(id: TargetId): boolean {
  // A peer that is skipped (not installed, or not asked for) needs nothing.
  return TARGETS[id]?.needsPostgres === true && !(isPeerId(id) && peerSkipReason(id) !== null);
}

/**
 * A fresh, not yet set up target.
 * @throws Error for a target that is not implemented yet.
 */
export function createTarget(id: TargetId, context: TargetContext): Target {
  const info = TARGETS[id];
  if (!info) throw new Error(`target ${id} is not implemented yet`);
  return info.create(context);
}
