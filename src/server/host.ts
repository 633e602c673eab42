import type { OperationHost } from '../api/operations.ts';
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
}
