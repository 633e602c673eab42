/**
 * A broker's machine loses power just after a claim (real processes): the broker is killed with
 * SIGKILL and its disk put back to the state of its last sync (test/support/power-loss.ts), so
 * the claim, committed without a sync of its own, is gone. The remote worker that got that
 * claim's delivery lives on. The job is delivered again from the restarted broker; the lease
 * epoch gives the new delivery a token the lost one never had, so the old worker's ack is refused.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StaleLeaseError } from '../src/core/errors.ts';
import type { Job } from '../src/core/job.ts';
import { connect } from '../src/client/connect.ts';
import type { RemoteSpool } from '../src/client/remote-spool.ts';
import { startBroker } from './support/broker.ts';
import { tempDir } from './support/cli.ts';
import { restore, snapshot } from './support/power-loss.ts';
import { quiet, waitFor } from './support/remote.ts';

/** Longest any one state may take to come about on a loaded CI machine. */
const STATE_WAIT_MS = 20_000;

/** Takes exactly one delivery from `queue` (one credit: nothing is delivered here after it). */
async function receiveOne(api: RemoteSpool, queue: string): Promise<Job> {
  const got: Job[] = [];
  api.subscribe(queue, { deliver: (jobs) => got.push(...jobs), revoke: () => {} }).addCredits(1);
  await waitFor(`a delivery from ${queue}`, () => got.length === 1, STATE_WAIT_MS);
  return got[0]!;
}

describe('a power loss undoes a claim the broker delivered (real processes, SIGKILL)', () => {
  it('the job is delivered again under a new token, and the ack of the worker that holds the lost one is refused', { timeout: 120_000 }, async (t) => {
    const dir = join(tempDir(t), 'data');
    const path = join(dir, 'spool.db');
    const beforeClaim = join(dir, '..', 'before-claim.db');
    let broker = await startBroker(t, dir, 0);
    const port = broker.port;

    const producer = await connect(broker.wsUrl, quiet);
    const { id } = await producer.queue('q').add('x');
    await producer.close();
    snapshot(path, beforeClaim); // the disk at the add's sync

    const stale = await connect(broker.wsUrl, { ...quiet, reconnectBaseMs: 20, reconnectMaxMs: 200 });
    t.after(() => stale.close());
    const lost = await receiveOne(stale, 'q'); // its claim committed, not synced
    assert.equal(lost.id, id);

    broker.child.kill('SIGKILL');
    await broker.exited;
    restore(beforeClaim, path); // the power loss: the claim never reached the disk
    broker = await startBroker(t, dir, port);

    const fresh = await connect(broker.wsUrl, quiet);
    t.after(() => fresh.close());
    const next = await receiveOne(fresh, 'q');
    assert.equal(next.id, id, 'the job whose claim was lost is delivered again');
    assert.ok(next.leaseToken > lost.leaseToken, `the new delivery's token (${next.leaseToken}) is not the lost one's (${lost.leaseToken})`);

    // The old worker reconnects by itself and acks with the token it holds.
    await assert.rejects(stale.ack({ jobId: id, token: lost.leaseToken }, 'from the lost lease'), StaleLeaseError);
    assert.equal((await fresh.get(id)).state, 'active', 'the refused ack changed nothing');
    await fresh.ack({ jobId: id, token: next.leaseToken }, 'from the new lease');
    const done = await fresh.get(id);
    assert.deepEqual([done.state, done.result], ['completed', 'from the new lease']);
  });
});
