import type { Target, TargetContext } from '../target.ts';
import { SpoolEmbeddedTarget } from './spool-embedded.ts';

/** Every target id the workload definition names, in report order. */
export const TARGET_IDS = ['spool-embedded', 'spool-server', 'spool-postgres', 'bullmq', 'pg-boss', 'rabbitmq', 'nats'] as const;
/** One of {@link TARGET_IDS}. */
export type TargetId = (typeof TARGET_IDS)[number];

const FACTORIES: Partial<Record<TargetId, (context: TargetContext) => Target>> = {
  'spool-embedded': (context) => new SpoolEmbeddedTarget(context),
};

/** True when `id` names a target of the workload definition. */
export function isTargetId(id: string): id is TargetId {
  return (TARGET_IDS as readonly string[]).includes(id);
}

/** True when the benchmark can run this target yet. */
export function isTargetImplemented(id: TargetId): boolean {
  return FACTORIES[id] !== undefined;
}

/**
 * A fresh, not yet set up target.
 * @throws Error for a target that is not implemented yet.
 */
export function createTarget(id: TargetId, context: TargetContext): Target {
  const factory = FACTORIES[id];
  if (!factory) throw new Error(`target ${id} is not implemented yet`);
  return factory(context);
}
