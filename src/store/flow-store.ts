import type { FlowRule, FlowState } from '../core/flow.ts';
import type { NewJobRow } from './store-types.ts';

/** A flow to write: its parent (stored scheduled at FLOW_WAIT_AT), its children, and the rule. */
export interface NewFlow {
  parent: NewJobRow;
  children: readonly NewJobRow[];
  rule: FlowRule;
}

/** A flow as stored: what it is, where it stands, and its children (id, queue, name) in order. */
export interface StoredFlow {
  parentId: string;
  queue: string;
  rule: FlowRule;
  state: FlowState;
  createdAt: number;
  settledAt: number | null;
  children: { id: string; queue: string; name: string }[];
}

/** A flow one settling moved out of `waiting`. */
export interface FlowSettled {
  parentId: string;
  /** The parent's queue (a `ready` parent's consumers are to be woken). */
  queue: string;
  state: Exclude<FlowState, 'waiting'>;
}

/** Which waiting flows one settling looks at: those named, those of the children named, or a page of every waiting flow. */
export type FlowSelection =
  | { parents: readonly string[] }
  | { children: readonly string[] }
  | { after: string; limit: number };

/**
 * Flows (docs/flows.md): a parent job that waits, scheduled at FLOW_WAIT_AT (never due), until
 * its children have finished. The store keeps each flow (its rule and state) and its children;
 * the settling reads the parent and the children as they are and applies `decideFlow`
 * (src/core/flow.ts): parent made ready (its `childResults` written, run time now), made dead
 * (rule `fail`), or the flow ended (the parent no longer waits).
 */
export interface FlowStore {
  /**
   * Writes the parent, the children and the flow in one transaction: all, or nothing and it
   * throws. Queues are created and bounds enforced as by jobsInsertMany.
   */
  flowInsert(flow: NewFlow): Promise<void>;
  /**
   * Settles the waiting flows selected, each atomically (the parent's change and the flow's
   * state together, the flow's row locked where many processes write). Returns the flows that
   * left `waiting` and, for a page (`after`), where to go on from (null: the last waiting flow was read).
   */
  flowsSettle(select: FlowSelection, now: number): Promise<{ settled: FlowSettled[]; next: string | null }>;
  /** A flow by its parent's id, or null when there is none (never a flow, or its parent and rows were deleted since). */
  flowRead(parentId: string): Promise<StoredFlow | null>;
  /**
   * Deletes up to `limit` flows that no longer wait and whose parent no longer exists (retention,
   * an operator deleted it); returns how many.
   */
  flowsForget(limit: number): Promise<number>;
}
