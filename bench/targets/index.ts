import type { Target, TargetContext } from '../target.ts';
import { MULTI_PROCESS_RUNS, type RunKind } from '../workloads/catalog.ts';
import { SpoolEmbeddedTarget } from './spool-embedded.ts';
import { SpoolPostgresTarget } from './spool-postgres.ts';

/** Every target id the workload definition names, in report order. */
export const TARGET_IDS = ['spool-embedded', 'spool-server', 'spool-postgres', 'bullmq', 'pg-boss', 'rabbitmq', 'nats'] as const;
/** One of {@link TARGET_IDS}. */
export type TargetId = (typeof TARGET_IDS)[number];

interface TargetInfo {
  create: (context: TargetContext) => Target;
  /** Several processes can share its store (it implements `attachSpec`): W3-2w and W7 run on it. */
  multiProcess: boolean;
  /** Why the multi-process workloads are skipped, for a target that cannot run them. */
  singleProcessNote?: string;
  /** It needs a PostgreSQL server (the runner starts one, or uses SPOOL_BENCH_PG_URL). */
  needsPostgres: boolean;
}

const TARGETS: Partial<Record<TargetId, TargetInfo>> = {
  'spool-embedded': {
    create: (context) => new SpoolEmbeddedTarget(context),
    multiProcess: false,
    singleProcessNote: 'the embedded deployment is one process (several processes on one SQLite file work, but that is not this deployment)',
    needsPostgres: false,
  },
  'spool-postgres': { create: (context) => new SpoolPostgresTarget(context), multiProcess: true, needsPostgres: true },
};

/** True when `id` names a target of the workload definition. */
export function isTargetId(id: string): id is TargetId {
  return (TARGET_IDS as readonly string[]).includes(id);
}

/** True when the benchmark can run this target yet. */
export function isTargetImplemented(id: TargetId): boolean {
  return TARGETS[id] !== undefined;
}

/** True when the target runs this kind of run (multi-process runs need a shareable store). */
export function targetSupports(id: TargetId, run: RunKind): boolean {
  const info = TARGETS[id];
  return info !== undefined && (info.multiProcess || !MULTI_PROCESS_RUNS.includes(run));
}

/** Why a target skips the multi-process runs, or null when it runs them. */
export function singleProcessNote(id: TargetId): string | null {
  const info = TARGETS[id];
  return info && !info.multiProcess ? (info.singleProcessNote ?? 'it is a single-process target') : null;
}

/** True when the target needs a PostgreSQL server. */
export function targetNeedsPostgres(id: TargetId): boolean {
  return TARGETS[id]?.needsPostgres === true;
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
