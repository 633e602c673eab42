// A flow lives in the store: a process that closes mid-flow and another that opens the same data
// later still makes the parent ready. Two ways: the last child acked after the reopen (the ack
// settles the flow), and the last child completed while no engine settled it (a process that
// crashed between its ack and the settling, played by the store's own ack): the reopened
// engine's sweep makes the parent ready. SQLite file and PostgreSQL schema; a manual clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reopenableStores } from './support/reopen-stores.ts';
import { ManualClock } from '../src/core/clock.ts';
import { Spool } from '../src/engine/spool.ts';

/** Leases the one ready job of `queue` and acks it with `result`, through the engine. */
async function complete(spool: Spool, queue: string, result: unknown): Promise<void> {
  const [job] = await spool.claim(queue, 1);
  assert.ok(job, `a job is ready in ${queue}`);
  await spool.ack({ jobId: job.id, token: job.leaseToken }, result);
}

/** The job once it is ready: waits for the state (polling the store), never for a time. */
async function readyOf(spool: Spool, id: string) {
  for (;;) {
    const job = await spool.get(id);
    if (job.state === 'ready') return job;
    assert.equal(job.state, 'scheduled');
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const [name, make] of Object.entries(reopenableStores)) {
  describe(`flows across a restart (${name})`, () => {
    it('the parent becomes ready when its last child is acked after the store was closed and opened again', async () => {
      const { open, cleanup } = make();
      const clock = new ManualClock();
      try {
        const before = await Spool.open({ store: await open(), clock, onError: () => {} });
        const { parent } = await before.addFlow({ queue: 'p', payload: 0, onChildFailure: 'fail', children: [{ queue: 'a', payload: 1 }, { queue: 'b', payload: 2 }] });
        await complete(before, 'a', 'A');
        await before.close();

        const after = await Spool.open({ store: await open(), clock, onError: () => {} });
        try {
          assert.equal((await after.getFlow(parent.id)).state, 'waiting');
          await complete(after, 'b', 'B');
          const ready = await readyOf(after, parent.id); // the settling the ack started (no maintenance pass runs: the clock stands still)
          assert.deepEqual(ready.childResults?.map((c) => [c.queue, c.state, c.result]), [['a', 'completed', 'A'], ['b', 'completed', 'B']]);
        } finally {
          await after.close();
        }
      } finally {
        cleanup();
      }
    });

    it('a child completed while no engine settled its flow: the reopened engine\'s sweep makes the parent ready', async () => {
      const { open, cleanup } = make();
      const clock = new ManualClock();
      try {
        const before = await Spool.open({ store: await open(), clock, onError: () => {}, maintenance: false });
        const { parent } = await before.addFlow({ queue: 'p', payload: 0, onChildFailure: 'continue', children: [{ queue: 'a', payload: 1 }] });
        const [child] = await before.claim('a', 1);
        // The store's own ack: what a process that crashed right after its ack leaves behind.
        const [r] = await before.store.jobsComplete([{ lease: { jobId: child!.id, token: child!.leaseToken }, result: '"done"' }], clock.now());
        assert.deepEqual(r, { ok: true, flowParent: parent.id }, 'the ack says which flow the child belongs to');
        await before.close();

        const after = await Spool.open({ store: await open(), clock, onError: () => {} });
        try {
          assert.equal((await after.get(parent.id)).state, 'scheduled', 'nothing settled the flow yet');
          await after.runMaintenance(); // the leader's sweep
          const ready = await after.get(parent.id);
          assert.equal(ready.state, 'ready');
          assert.deepEqual(ready.childResults?.map((c) => [c.id, c.state, c.result]), [[child!.id, 'completed', 'done']]);
          assert.equal((await after.getFlow(parent.id)).state, 'ready');
        } finally {
          await after.close();
        }
      } finally {
        cleanup();
      }
    });
  });
}
