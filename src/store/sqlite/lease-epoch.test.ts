/**
 * Claims commit without a sync of their own; the lease epoch keeps the token of a claim that an
 * OS crash or power loss undid from being issued again. A power loss is played by putting back
 * a copy of the database taken before the claim (test/support/power-loss.ts). The same through
 * a broker killed with SIGKILL: test/power-loss.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scratchDir } from '../../../test/support/scratch.ts';
import { quiet } from '../../../test/support/remote.ts';
import { restore, snapshot } from '../../../test/support/power-loss.ts';
import { StaleLeaseError } from '../../core/errors.ts';
import { Spool } from '../../engine/spool.ts';
import { LEASE_EPOCH_SPAN } from './open.ts';

describe('SQLite: the lease epoch', () => {
  it('a fresh file\'s tokens count from 1; every reopen issues tokens above all earlier ones', async () => {
    const dir = scratchDir('epoch-fresh');
    let spool = await Spool.open({ store: dir, ...quiet });
    const { id } = await spool.queue('q').add('x');
    const [first] = await spool.claim('q');
    assert.equal(first!.leaseToken, 1);
    await spool.release({ jobId: first!.id, token: first!.leaseToken });
    await spool.close();
    spool = await Spool.open({ store: dir, ...quiet });
    try {
      const [again] = await spool.claim('q');
      assert.equal(again!.id, id);
      assert.equal(again!.leaseToken, LEASE_EPOCH_SPAN + 1, 'the second open\'s tokens start above 2^24');
    } finally {
      await spool.close();
    }
  });

  it('after a power loss undid a claim, the job is claimed again with a new token, and the lost claim\'s ack is refused', async () => {
    const dir = scratchDir('epoch-lost-claim');
    const path = join(dir, 'spool.db');
    const before = join(dir, 'before-claim.db');
    let spool = await Spool.open({ store: dir, ...quiet });
    const { id } = await spool.queue('q').add('x');
    snapshot(path, before); // the disk at the add's sync
    const [lost] = await spool.claim('q'); // committed, not synced
    await spool.close();
    restore(before, path); // the power loss: the claim's frames never reached the disk

    spool = await Spool.open({ store: dir, ...quiet });
    try {
      assert.equal((await spool.get(id)).state, 'ready', 'the undone claim left the job ready');
      const [next] = await spool.claim('q');
      assert.equal(next!.id, id);
      assert.ok(next!.leaseToken > lost!.leaseToken, `the new lease's token (${next!.leaseToken}) is not the lost one's (${lost!.leaseToken})`);
      await assert.rejects(spool.ack({ jobId: id, token: lost!.leaseToken }, 'from the lost lease'), StaleLeaseError);
      assert.equal((await spool.get(id)).state, 'active', 'the stale ack changed nothing');
      await spool.ack({ jobId: id, token: next!.leaseToken }, 'done');
      const done = await spool.get(id);
      assert.deepEqual([done.state, done.result], ['completed', 'done']);
    } finally {
      await spool.close();
    }
  });
});
