import type { OperationHost } from '../api/operations.ts';
import type { Lease } from '../core/job.ts';
import type { Store } from '../store/store.ts';

/**
 * What a broker serves: the public contract (in-process, the engine), a pull claim for
 * HTTP receive, and the store, which holds the API tokens and answers the one read that
 * checks whose jobs a lease batch settles. The server depends on this, not on the engine.
 */
export interface BrokerHost extends OperationHost {
  readonly store: Store;
  /** This process's registration id in a shared store, if any. */
  readonly nodeId: string | null;
  /**
   * Makes leases whose holder is gone end within `withinMs` (see Spool.abandonLeases): a
   * connection that closed holding them calls it, so its jobs come back without waiting for
   * their visibility timeout, unless the worker reconnects and extends them first.
   */
  abandonLeases(items: readonly { lease: Lease; expiresAt: number }[], withinMs: number): Promise<number>;
}
