import { Batcher } from '../core/batcher.ts';
import { leaseKey, type Lease } from '../core/job.ts';
import type { ItemResult, LeaseItem } from '../protocol/frames.ts';
import { errorFromWire } from '../protocol/wire-errors.ts';
import type { Connection } from './connection.ts';
import type { RemoteSubscription } from './remote-subscription.ts';

export type LeaseOp = 'ack' | 'nack' | 'extend' | 'release';

/**
 * A RemoteSpool's lease operations: each op made in one tick travels as one frame, and the
 * leases delivered to its subscriptions are kept so a reconnect can take them over.
 */
export class RemoteLeases {
  readonly #conn: Connection;
  readonly #ops = new Map<LeaseOp, Batcher<LeaseItem & Record<string, unknown>, ItemResult>>();
  /** Leases delivered to this client's subscriptions and not settled: `jobId/token` → the lease and its subscription. */
  readonly #held = new Map<string, { lease: Lease; sub: RemoteSubscription }>();

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  /** A lease delivered to `sub`, held until it is settled or revoked. */
  hold(lease: Lease, sub: RemoteSubscription): void {
    this.#held.set(leaseKey(lease), { lease, sub });
  }

  /** A lease the broker revoked: no longer held. */
  forget(lease: Lease): void {
    this.#held.delete(leaseKey(lease));
  }

  /**
   * After a reconnect, extends every lease this client holds through the new broker: on a
   * shared store that broker takes the leases over, so they do not die with the broker that
   * delivered them. A lease that is already gone is revoked, which aborts its handler.
   */
  reclaimHeld(): void {
    for (const [key, { lease, sub }] of this.#held) {
      this.#send('extend', { ...lease }).catch((err) => {
        if ((err as { code?: string }).code !== 'STALE_LEASE' || !this.#held.delete(key)) return;
        sub.handlers.revoke(lease, err as Error);
      });
    }
  }

  async op(op: LeaseOp, item: LeaseItem & Record<string, unknown>): Promise<unknown> {
    if (op !== 'extend') this.#held.delete(leaseKey(item));
    try {
      return await this.#send(op, item);
    } catch (err) {
      // An extend refused as stale: the lease is gone and its holder has just been told. Nothing
      // will settle it now (a worker does not ack a lease it lost), and the broker that took it
      // back may not be the one that delivered it, so no revoke comes to forget it by: kept, it
      // would stay until the next reconnect, and without reconnects for ever.
      if (op === 'extend' && (err as { code?: string }).code === 'STALE_LEASE') this.#held.delete(leaseKey(item));
      throw err;
    }
  }

  /** Sends one lease operation (batched per tick), leaving the held leases as they are. */
  async #send(op: LeaseOp, item: LeaseItem & Record<string, unknown>): Promise<unknown> {
    let batcher = this.#ops.get(op);
    if (!batcher) {
      batcher = new Batcher(async (leases) => {
        const { value, resent } = await this.#conn.request({ op, leases } as never);
        const results = (value as { results: ItemResult[] }).results;
        // An ack sent again after a reconnect may find its own first copy already applied: then
        // the job was completed under this very lease token. Completed under another token, a
        // later attempt finished it after this lease had expired, and this ack was not applied.
        const ownAck = (r: ItemResult, i: number) =>
          !r.ok && r.error.code === 'STALE_LEASE' && r.error.currentState === 'completed' && r.error.currentToken === leases[i]!.token;
        return resent && op === 'ack' ? results.map((r, i) => (ownAck(r, i) ? { ok: true } : r)) : results;
      }, this.#conn.limits.batchMax);
      this.#ops.set(op, batcher);
    }
    const r = await batcher.push(item);
    if (!r.ok) throw errorFromWire(r.error);
    return r.value;
  }
}
