/** The rows, parameters and results of the Store's topic routing methods (see docs/routing.md). */
import type { NewJobRow } from './store-types.ts';

/** A binding as stored: publishes whose topic matches `pattern` get a copy in `queue`. */
export interface StoredBinding {
  pattern: string;
  queue: string;
  createdAt: number;
}

/**
 * The routing of a store, read in one consistent snapshot. `version` goes up with every change of
 * the bindings or of the unrouted queue: a publish names the version it routed by, and the store
 * refuses it (stale) when the version is no longer the current one.
 */
export interface RoutingRow {
  version: number;
  bindings: StoredBinding[];
  /** Where a publish that matches no binding goes; null: nowhere (it is only counted). */
  unroutedQueue: string | null;
  /** Publishes stored so far that matched no binding (sent to the unrouted queue or not). */
  unrouted: number;
}

/**
 * One publish: the copies (one row per bound queue, of one topic) written all together or not at
 * all, in a transaction that first checks that the routing is still at `version`.
 */
export interface PublishItem {
  version: number;
  rows: readonly NewJobRow[];
  /** The publish matched no binding: the store counts it (its rows, if any, go to the unrouted queue). */
  unrouted: boolean;
}

/**
 * What became of one publish: `stored` (every copy, with the jobs a bounded queue with overflow
 * `drop-oldest` dropped to make room, per queue); `stale`, nothing written (the routing changed
 * since `version`: route again); or `error`, nothing written (a bounded queue is full with
 * overflow `reject`: QueueFullError; a value the database refuses; the store unavailable).
 */
export type PublishOutcome =
  | { status: 'stored'; dropped?: Record<string, number> }
  | { status: 'stale' }
  | { status: 'error'; error: Error };
