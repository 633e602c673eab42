import { scratchDir } from './support/scratch.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import { waitFor } from '../src/store/conformance/worker.ts';
import { startFixture } from './support/child.ts';

const start = startFixture;

function integrity(path: string): string {
  const db = new DatabaseSync(path);
  try {
    return (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
}

describe('crash safety (real processes, SIGKILL)', () => {
  it('every add acknowledged before a kill -9 is in the store afterwards, over 20 rounds', { timeout: 120_000 }, async () => {
    const path = join(scratchDir('spool-crash-'), 'crash.db');
    const acknowledged: string[] = [];
    for (let round = 0; round < 20; round++) {
      const { child, lines, exited } = start('producer.ts', [path, String(round)]);
      await waitFor(() => lines.length > 0, 15_000, 'the producer to start adding');
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 150));
      child.kill('SIGKILL');
      await exited;
      assert.equal(child.signalCode, 'SIGKILL');
      acknowledged.push(...lines);

      assert.equal(integrity(path), 'ok', `round ${round}: the database is sound`);
      const spool = await Spool.open({ store: path, maintenance: false });
      const found = await spool.store.jobsGet(acknowledged);
      const missing = acknowledged.filter((_, i) => found[i] === null);
      assert.deepEqual(missing, [], `round ${round}: acknowledged jobs lost`);
      for (const job of found) assert.equal(job!.state, 'ready');
      await spool.close();
    }
    assert.ok(acknowledged.length > 1000, `the producers got going (${acknowledged.length} adds)`);
  });

  it("a killed worker's job is redelivered after its lease expires, as attempt 2", { timeout: 30_000 }, async () => {
    const path = join(scratchDir('spool-crash-'), 'worker.db');
    const spool = await Spool.open({ store: path, maintenanceIntervalMs: 50, pollIntervalMs: 20 });
    try {
      await spool.queue('work').configure({ visibilityTimeoutMs: 1000 });
      const job = await spool.queue('work').add({ important: true });
      const { child, lines, exited } = start('stuck-worker.ts', [path, 'work']);
      await waitFor(() => lines.length > 0, 15_000, 'the worker to take the job');
      assert.deepEqual(lines, [`started ${job.id} 1`]);
      const held = await spool.get(job.id);
      assert.equal(held.state, 'active');
      child.kill('SIGKILL');
      const killedAt = Date.now();
      await exited;

      const seen: { attempt: number; at: number }[] = [];
      spool.queue('work').work(async (j) => {
        seen.push({ attempt: j.attempt, at: Date.now() });
      });
      await waitFor(async () => (await spool.get(job.id)).state === 'completed', 10_000, 'redelivery');
      const done = await spool.get(job.id);
      assert.deepEqual(seen.map((s) => s.attempt), [2]);
      assert.deepEqual(done.history.map((h) => h.outcome), ['expired', 'completed']);
      assert.equal(done.stalls, 1);
      // Not before the lease ran out: extensions only push the deadline seen before the kill further out.
      assert.ok(done.history[0]!.endedAt >= held.leaseExpiresAt!, 'redelivered only after the lease expired');
      assert.ok(seen[0]!.at - killedAt < 5000, 'and promptly after that');
    } finally {
      await spool.close();
    }
  });
});
