/**
 * The leases a remote client holds (src/client/remote-leases.ts) against real brokers on one
 * SQLite file: a lease its own extend found stale is no longer held, so it is not carried from
 * reconnect to reconnect (nor for ever, without reconnects), while one lost without the client
 * knowing is still reclaimed after a reconnect and revoked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StaleLeaseError } from '../core/errors.ts';
import { leaseKey, type Job, type Lease } from '../core/job.ts';
import { connect } from './connect.ts';
import { quiet, twoBrokersOnOneFile, waitFor } from '../../test/support/remote.ts';

describe('RemoteLeases (real brokers, real sockets)', () => {
  it('a lease found stale by its own extend is let go; one lost unseen is reclaimed and revoked from the first reconnect on', async (t) => {
    // A cancel through B sends no revoke to A's clients.
    const { spoolB, a, b, close } = await twoBrokersOnOneFile();
    const remote = await connect([a.wsUrl, b.wsUrl], { ...quiet, reconnectBaseMs: 20, reconnectMaxMs: 20 });
    t.after(async () => {
      await remote.close();
      await close();
    });
    assert.deepEqual([a.connections, b.connections], [1, 0]);

    const delivered: Job[] = [];
    const revoked: string[] = [];
    const sub = remote.subscribe('held', {
      deliver: (jobs) => delivered.push(...jobs),
      revoke: (lease) => revoked.push(leaseKey(lease)),
    });
    t.after(() => sub.close());
    const [seen, unseen] = await remote.queue('held').addMany([{ payload: 'seen' }, { payload: 'unseen' }]);
    sub.addCredits(2);
    await waitFor('both deliveries', () => delivered.length === 2);
    const leaseOf = (id: string): Lease => {
      const job = delivered.find((j) => j.id === id)!;
      return { jobId: job.id, token: job.leaseToken };
    };

    // Both cancelled through the other engine: nothing tells this client.
    await spoolB.cancel(seen!.id);
    await spoolB.cancel(unseen!.id);
    // The client finds one of them out itself.
    await assert.rejects(remote.extend(leaseOf(seen!.id)), StaleLeaseError);

    // The first reconnect: the client extends every lease it still holds through B; the unseen one is
    // refused as stale and revoked. Both would travel in one frame, answered together.
    await a.close();
    await waitFor('the reconnect to B', () => b.connections === 1 && remote.health().healthy);
    await waitFor('the unseen lease to be revoked', () => revoked.includes(leaseKey(leaseOf(unseen!.id))));
    await new Promise((r) => setImmediate(r)); // whatever else that answer settles has run
    assert.deepEqual(revoked, [leaseKey(leaseOf(unseen!.id))], 'the lease the client already knew was stale was not held any more');
  });
});
