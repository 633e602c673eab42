import type { OperationHost } from '../api/operations.ts';
import type { Lease } from '../core/job.ts';
import type { Overview } from '../model/overview.ts';
import type { Store } from '../store/store.ts';
import type { Subscription, SubscriptionHandlers } from '../worker/consumer.ts';
import type { TelemetryListener } from '../engine/telemetry.ts';

/**
 * What a broker serves: the public contract (in-process, the engine), a pull claim for
 * HTTP receive, and the store, which holds the API tokens and answers the one read that
 * checks whose jobs a lease batch settles. The server depends on this, not on the engine;
 * an embedded Spool (`Spool.open()`) is one.
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
  /** Pushes a queue's jobs to a WebSocket consumer as its credit allows (the engine's dispatcher). */
  subscribe(queue: string, handlers: SubscriptionHandlers): Subscription;
  /** What this process did, for `/metrics` and the live model. */
  readonly telemetry: { listen(listener: TelemetryListener): () => void };
  /** The live model of this process alone (the metrics' own window). */
  processOverview(): Promise<Overview>;
}
