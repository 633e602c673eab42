/**
 * Flows (docs/flows.md): a parent job that becomes ready once its children have finished. The
 * public types, the check of an `addFlow` input, and the pure rule that decides, from the
 * children as they are now, whether the parent waits, runs or dies. Both stores run it.
 */
import { InvalidArgumentError } from './errors.ts';
import type { AddOptions } from './add-options.ts';
import type { ChildResult } from './flow-types.ts';
import type { Job } from './job.ts';
import { describe } from './limits.ts';
import { nearest } from './options.ts';

export type { ChildOutcome, ChildResult } from './flow-types.ts';

/**
 * What a failed child (dead, cancelled, deleted, or dead because it expired) does to its parent:
 * - `fail`: the parent becomes dead at once (deadReason `child-failed`, lastError naming the
 *   child), without waiting for the other children;
 * - `ignore`: the parent runs once every child has finished; its `childResults` hold the
 *   completed children only;
 * - `continue`: the parent runs once every child has finished; its `childResults` hold every
 *   child, the failed ones with their state and error.
 */
export type FlowRule = 'fail' | 'ignore' | 'continue';

export const FLOW_RULES: readonly FlowRule[] = ['fail', 'ignore', 'continue'];

/** The options of a job of a flow: those of `add`, but not `delayMs`/`runAt` for the parent, and never `idempotencyKey`, `uniqueKey`, `uniqueWindowMs` or `tx`. */
export type FlowJobOptions = Omit<AddOptions, 'idempotencyKey' | 'uniqueKey' | 'uniqueWindowMs' | 'tx'>;

/** One child of a flow: its queue (any queue, the parent's or another), its payload and add options. */
export interface FlowChildInput<C = unknown> extends FlowJobOptions {
  queue: string;
  payload: C;
}

/** The input of {@link SpoolOperations.addFlow}: the parent's queue, payload and options, the rule, and the children. */
export interface FlowInput<P = unknown, C = unknown> extends Omit<FlowJobOptions, 'delayMs' | 'runAt'> {
  queue: string;
  payload: P;
  /** What a failed child does to the parent (see {@link FlowRule}). */
  onChildFailure: FlowRule;
  /** 1 to `flowChildrenMax` (default 100) plain jobs; a child is never itself a flow. */
  children: readonly FlowChildInput<C>[];
}

/** What `addFlow` wrote: the parent (scheduled, waiting for its children) and the children, in order. */
export interface AddedFlow<P = unknown, C = unknown> {
  parent: Job<P>;
  children: Job<C>[];
}

/**
 * Where a flow stands: `waiting` (children not all finished), `ready` (the parent was made
 * ready with its children's results), `failed` (rule `fail`: the parent was made dead by a failed
 * child), `ended` (the parent was cancelled, deleted or expired while it waited: nothing more happens).
 */
export type FlowState = 'waiting' | 'ready' | 'failed' | 'ended';

/** One child in a flow's tree: the job as it is now, or null once it was deleted. */
export interface FlowChild {
  id: string;
  queue: string;
  name: string;
  job: Job | null;
}

/** A flow's tree (`getFlow`): the parent as it is now (null once deleted), the rule, where it stands, and each child. */
export interface Flow {
  /** The parent's id. */
  id: string;
  /** The parent's queue. */
  queue: string;
  parent: Job | null;
  onChildFailure: FlowRule;
  state: FlowState;
  createdAt: number;
  /** When the flow left `waiting`; null while it waits. */
  settledAt: number | null;
  children: FlowChild[];
}

/**
 * The run time a waiting parent is stored with: a scheduled job that never falls due, so no
 * promotion or claim ever takes it; only the settling of its flow makes it ready (with run time
 * now). Below 2^53, so every store and sort key holds it exactly.
 */
export const FLOW_WAIT_AT = 2 ** 52;

const PARENT_KEYS = ['queue', 'payload', 'onChildFailure', 'children', 'name', 'priority', 'maxAttempts', 'timeoutMs', 'trace', 'group', 'ttlMs', 'cost', 'concurrencyKey', 'requires'];
const CHILD_KEYS = ['queue', 'payload', 'name', 'priority', 'delayMs', 'runAt', 'maxAttempts', 'timeoutMs', 'trace', 'group', 'ttlMs', 'cost', 'concurrencyKey', 'requires'];

/**
 * Checks the shape of an addFlow input (the options of each job are checked as an add's are, by
 * the engine). @throws InvalidArgumentError naming the field at fault.
 */
export function checkFlowInput(input: unknown, childrenMax: number): FlowInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError('flow', `addFlow takes { queue, payload, onChildFailure, children, ...options } (got ${describe(input)})`);
  }
  checkKeys(input as Record<string, unknown>, PARENT_KEYS, 'flow', '');
  const f = input as FlowInput;
  if (!FLOW_RULES.includes(f.onChildFailure)) {
    throw new InvalidArgumentError('onChildFailure', `onChildFailure must be one of ${FLOW_RULES.join(', ')} (got ${describe(f.onChildFailure)})`);
  }
  if (!Array.isArray(f.children) || f.children.length === 0) {
    throw new InvalidArgumentError('children', `children must be a non-empty array of { queue, payload, ...options } (got ${describe(f.children)})`);
  }
  if (f.children.length > childrenMax) {
    throw new InvalidArgumentError('children', `a flow has at most ${childrenMax} children (flowChildrenMax; got ${f.children.length})`);
  }
  f.children.forEach((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new InvalidArgumentError(`children[${i}]`, `children[${i}] must be an object { queue, payload, ...options }`);
    checkKeys(c as unknown as Record<string, unknown>, CHILD_KEYS, 'flow child', `children[${i}].`);
  });
  return f;
}

function checkKeys(o: Record<string, unknown>, known: readonly string[], what: string, prefix: string): void {
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    const near = nearest(key, [...known]);
    const why = ['idempotencyKey', 'uniqueKey', 'uniqueWindowMs', 'tx'].includes(key) ? 'a flow\'s jobs cannot have it' : ['delayMs', 'runAt'].includes(key) ? 'a parent runs when its children have finished' : null;
    const hint = why ?? (near === null ? `known: ${known.join(', ')}` : `did you mean ${JSON.stringify(near)}?`);
    throw new InvalidArgumentError(prefix + key, `unknown ${what} option ${JSON.stringify(key)}; ${hint}`);
  }
}


/** A child of a waiting flow as the settling reads it: its job now, or null when it no longer exists. */
export interface SettlingChild {
  id: string;
  queue: string;
  name: string;
  job: Job | null;
}

/** What the settling of a waiting flow does. */
export type FlowDecision =
  | { kind: 'wait' }
  | { kind: 'ended' }
  | { kind: 'ready'; childResults: ChildResult[] }
  | { kind: 'failed'; error: string; childResults: ChildResult[] };

/** Whether `job` is a parent still waiting for its children. */
export const isWaitingParent = (job: Job | null): job is Job => job !== null && job.state === 'scheduled' && job.runAt === FLOW_WAIT_AT;

/**
 * Decides a waiting flow from its parent and children as they are now. A parent that is no
 * longer waiting (cancelled, deleted, expired, dropped) ends the flow. A child is final when it
 * is completed, dead or cancelled, or gone (deleted: it counts as failed).
 */
export function decideFlow(rule: FlowRule, parent: Job | null, children: readonly SettlingChild[]): FlowDecision {
  if (!isWaitingParent(parent)) return { kind: 'ended' };
  const outcomes = children.map(outcomeOf);
  if (rule === 'fail') {
    const failed = outcomes.find((o) => o !== null && o.state !== 'completed');
    if (failed) {
      const text = failed.error === null ? '' : `: ${failed.error.split('\n')[0]}`;
      return { kind: 'failed', error: `child-failed: child ${failed.id} (queue ${failed.queue}) is ${failed.state}${text}`, childResults: outcomes.filter((o) => o !== null) };
    }
  }
  if (outcomes.some((o) => o === null)) return { kind: 'wait' };
  const all = outcomes as ChildResult[];
  return { kind: 'ready', childResults: rule === 'ignore' ? all.filter((o) => o.state === 'completed') : all };
}

function outcomeOf(c: SettlingChild): ChildResult | null {
  const base = { id: c.id, queue: c.queue, name: c.name };
  if (c.job === null) return { ...base, state: 'deleted', result: null, error: 'deleted' };
  const s = c.job.state;
  if (s === 'completed') return { ...base, state: s, result: c.job.result ?? null, error: null };
  if (s === 'dead' || s === 'cancelled') return { ...base, state: s, result: null, error: c.job.lastError ?? s };
  return null;
}
