import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import { startBroker, stopBroker, until } from './support/broker.ts';
import { startFixture } from './support/child.ts';
import { tempDir } from './support/cli.ts';

const VISIBILITY_MS = 1500;
const JOBS = 10;
const HELD = 4;

describe('a remote worker killed with SIGKILL (real broker and worker processes)', () => {
  it('its jobs stay leased while it lives, then are redelivered as attempt 2 once the lease runs out, never before', { timeout: 30_000 }, async (t) => {
    const store = join(tempDir(t), 'data');
    // Maintenance every 100 ms: a lease is reaped within a tick of running out.
    const broker = await startBroker(t, store, 0, ['--set', 'maintenanceIntervalMs=100']);
    const client = await Spool.connect(broker.wsUrl);
    t.after(() => client.close());
    const q = client.queue('work');
    await q.configure({ visibilityTimeoutMs: VISIBILITY_MS });
    const ids = (await q.addMany(Array.from({ length: JOBS }, (_, n) => ({ payload: { n } })))).map((j) => j.id);

    const stuck = startFixture('remote-stuck-worker.ts', [broker.wsUrl, 'work', String(HELD)]);
    t.after(() => void stuck.child.kill('SIGKILL'));
    await until(() => stuck.lines.length >= HELD, 15_000, () => `the worker to take ${HELD} jobs (stdout: ${stuck.lines.join(' | ')}; stderr: ${stuck.stderr()})`);
    const held = stuck.lines.map((l) => l.split(' '));
    assert.deepEqual(held.map(([, , attempt]) => attempt), Array(HELD).fill('1'), 'first attempts');
    const heldIds = held.map(([, id]) => id!);
    assert.ok(heldIds.every((id) => ids.includes(id)));
    assert.deepEqual((await q.stats()).counts, { scheduled: 0, ready: JOBS - HELD, active: HELD, completed: 0, dead: 0, cancelled: 0 });

    // While the worker lives it extends its leases over the wire: past the first lease's end the jobs are still its own.
    const firstLease = new Map((await Promise.all(heldIds.map((id) => client.get(id)))).map((j) => [j.id, j.leaseExpiresAt!]));
    const firstEnd = Math.max(...firstLease.values());
    await until(async () => {
      if (Date.now() <= firstEnd + 100) return false;
      const jobs = await Promise.all(heldIds.map((id) => client.get(id)));
      return jobs.every((j) => j.state === 'active' && j.attempt === 1 && j.leaseExpiresAt! > firstLease.get(j.id)!);
    }, 10_000, () => 'the live worker to extend its leases past the first visibility timeout');
    assert.equal(stuck.lines.length, HELD, 'no more jobs than its concurrency');

    const lastLease = new Map((await Promise.all(heldIds.map((id) => client.get(id)))).map((j) => [j.id, j.leaseExpiresAt!]));
    stuck.child.kill('SIGKILL');
    const killedAt = Date.now();
    await stuck.exited;
    assert.equal(stuck.child.signalCode, 'SIGKILL');

    // A second worker, over its own connection: it gets the other jobs at once and the killed worker's after their leases end.
    const seen: { id: string; attempt: number; at: number }[] = [];
    const other = await Spool.connect(broker.wsUrl);
    t.after(() => other.close());
    other.queue('work').work(async (job) => {
      seen.push({ id: job.id, attempt: job.attempt, at: Date.now() });
    }, { concurrency: JOBS });
    await until(async () => (await q.stats()).counts.completed === JOBS, 10_000, () => `every job to complete (seen: ${JSON.stringify(seen)})`);

    // Every job ran exactly once after the kill; exactly the held ones as attempt 2.
    assert.deepEqual(seen.map((s) => s.id).sort(), [...ids].sort(), 'each job completed once');
    assert.deepEqual(seen.filter((s) => s.attempt === 2).map((s) => s.id).sort(), [...heldIds].sort(), 'the held jobs, as attempt 2');
    assert.equal(seen.filter((s) => s.attempt === 1).length, JOBS - HELD, 'the others, as attempt 1');
    for (const id of heldIds) {
      const job = await client.get(id);
      const redelivery = seen.find((s) => s.id === id)!;
      assert.equal(job.state, 'completed');
      assert.deepEqual(job.history.map((h) => h.outcome), ['expired', 'completed'], `history of ${id}`);
      assert.equal(job.stalls, 1);
      assert.ok(job.history[0]!.endedAt >= lastLease.get(id)!, `${id}: the lease was taken back only after it ran out`);
      assert.ok(redelivery.at >= lastLease.get(id)!, `${id}: redelivered only after its lease ran out (${redelivery.at - lastLease.get(id)!} ms)`);
      assert.ok(redelivery.at - killedAt < VISIBILITY_MS + 3000, `${id}: and promptly after that (${redelivery.at - killedAt} ms after the kill)`);
    }
    assert.deepEqual((await q.stats()).counts, { scheduled: 0, ready: 0, active: 0, completed: JOBS, dead: 0, cancelled: 0 });

    await other.close();
    await client.close();
    await stopBroker(broker);
  });
});
