/**
 * What a flow's parent sees of its children (docs/flows.md): types only, so that the job model
 * (core/job.ts), and the dashboard that reads it, need nothing else of flows.
 */

/** How one child ended, as the parent's `childResults` and a flow's tree show it. */
export type ChildOutcome = 'completed' | 'dead' | 'cancelled' | 'deleted';

/** One finished child, as its parent's handler sees it in `job.childResults` (in the order the children were given). */
export interface ChildResult {
  id: string;
  queue: string;
  name: string;
  state: ChildOutcome;
  /** What the child's handler returned (completed), else null. */
  result: unknown;
  /** The child's last error (dead, cancelled), `deleted` for a child deleted before it finished, else null. */
  error: string | null;
}
