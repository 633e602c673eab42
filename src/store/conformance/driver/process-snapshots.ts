import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CountsByQueue, ProcessSnapshot, ProcessSnapshots } from '../../store.ts';
import { newRow, T, withData, withStore, type DriverContext } from './harness.ts';

const snapshot = (id: string, at: number, counts: CountsByQueue, live = '{}'): ProcessSnapshot => ({ id, host: `host-${id}`, pid: 100, at, counts, live });

/** Every queue's counts summed over the snapshots and the retired sums, as the engine sums them. */
function totals(read: ProcessSnapshots): CountsByQueue {
  const out: CountsByQueue = {};
  for (const counts of [read.retired, ...read.processes.map((p) => p.counts)]) {
    for (const [queue, fields] of Object.entries(counts)) {
      const sum = (out[queue] ??= {});
      for (const [f, n] of Object.entries(fields)) sum[f] = (sum[f] ?? 0) + n;
    }
  }
  return out;
}

const byId = (read: ProcessSnapshots) => [...read.processes].sort((a, b) => (a.id < b.id ? -1 : 1));

/**
 * The process snapshots behind the cluster-wide model: one row per process, replaced by each
 * put; a put that must find its row writes nothing when the row was retired; retiring moves
 * a silent process's counts into the retired sums in the same step, so the totals never go down.
 */
export function processSnapshotsArea(ctx: DriverContext): void {
  const skip = ctx.skip('cluster', 'processSnapshotPut', 'processSnapshotsRead', 'processSnapshotsRetire');
  describe('process snapshots (the cluster-wide model)', () => {
    it('a put replaces the process\'s snapshot; with mustExist it writes only over a row that is there', { skip }, () =>
      withStore(ctx, async (store) => {
        assert.deepEqual(await store.processSnapshotsRead!(), { processes: [], retired: {} });
        assert.equal(await store.processSnapshotPut!(snapshot('a', T, { q: { added: 1 } }), true), false, 'no row yet: nothing written');
        assert.deepEqual((await store.processSnapshotsRead!()).processes, []);
        const live = JSON.stringify({ slots: { q: { slots: 4, inFlight: 1 } }, consumers: [] });
        assert.equal(await store.processSnapshotPut!(snapshot('a', T, { q: { added: 1, completed: 0 } }, live), false), true);
        assert.equal(await store.processSnapshotPut!(snapshot('b', T + 5, { r: { added: 7 } }), false), true);
        assert.equal(await store.processSnapshotPut!(snapshot('a', T + 10, { q: { added: 3, completed: 2 }, r: { added: 1 } }, live), true), true);
        assert.deepEqual(byId(await store.processSnapshotsRead!()), [
          snapshot('a', T + 10, { q: { added: 3, completed: 2 }, r: { added: 1 } }, live),
          snapshot('b', T + 5, { r: { added: 7 } }),
        ]);
        assert.equal(await store.processSnapshotPut!(snapshot('b', T + 20, { r: { added: 8 } }), false), true, 'an upsert over a row replaces it');
        assert.deepEqual(byId(await store.processSnapshotsRead!()).map((p) => [p.id, p.at, p.counts]), [['a', T + 10, { q: { added: 3, completed: 2 }, r: { added: 1 } }], ['b', T + 20, { r: { added: 8 } }]]);
      }));

    it('retiring moves the counts of silent processes into the retired sums and deletes their rows: the totals stay', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([newRow(1, { queue: 'q' }), newRow(2, { queue: 'r' })]); // the queues exist
        await store.processSnapshotPut!(snapshot('old', T, { q: { added: 5, completed: 4, serviceMsSum: 100 } }), false);
        await store.processSnapshotPut!(snapshot('older', T - 10, { q: { added: 1 }, r: { added: 2 } }), false);
        await store.processSnapshotPut!(snapshot('fresh', T + 100, { q: { added: 10 } }), false);
        const before = totals(await store.processSnapshotsRead!());
        assert.equal(await store.processSnapshotsRetire!({ before: T }), 1, 'only what was published before T');
        assert.equal(await store.processSnapshotsRetire!({ before: T + 1 }), 1);
        const after = await store.processSnapshotsRead!();
        assert.deepEqual(after.processes.map((p) => p.id), ['fresh']);
        assert.deepEqual(after.retired, { q: { added: 6, completed: 4, serviceMsSum: 100 }, r: { added: 2 } });
        assert.deepEqual(totals(after), before, 'nothing counted is lost, nothing counted twice');
        assert.equal(await store.processSnapshotsRetire!({ before: T + 1 }), 0, 'nothing left to retire');
        assert.deepEqual((await store.processSnapshotsRead!()).retired, after.retired);

        // A retired process that comes back finds its row gone (its put with mustExist writes nothing)…
        assert.equal(await store.processSnapshotPut!(snapshot('old', T + 200, { q: { added: 9 } }), true), false);
        assert.deepEqual(totals(await store.processSnapshotsRead!()), before);
        // …and publishes afresh only what came after (here 2 adds), added to its retired counts.
        await store.processSnapshotPut!(snapshot('old', T + 200, { q: { added: 2 } }), false);
        await store.processSnapshotsRetire!({ before: T + 300 });
        assert.deepEqual((await store.processSnapshotsRead!()).retired, { q: { added: 18, completed: 4, serviceMsSum: 100 }, r: { added: 2 } });
      }));

    it('the retired sums of a deleted queue are dropped when retiring', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([newRow(1, { queue: 'kept' })]);
        await store.processSnapshotPut!(snapshot('a', T, { kept: { added: 1 }, gone: { added: 2 } }), false);
        assert.equal(await store.processSnapshotsRetire!({ before: T + 1 }), 1);
        assert.deepEqual((await store.processSnapshotsRead!()).retired, { kept: { added: 1 } });
      }));

    it('a second store on the same data reads the snapshots the first wrote, and retires them', { skip: ctx.skip('cluster', 'processSnapshotPut', 'processSnapshotsRead', 'processSnapshotsRetire', 'shared') }, () =>
      withData(ctx, async (d) => {
        const a = await d.open();
        const b = await d.open();
        await a.jobsInsertMany([newRow(1, { queue: 'q' })]);
        await a.processSnapshotPut!(snapshot('a', T, { q: { added: 4 } }), false);
        await b.processSnapshotPut!(snapshot('b', T + 50, { q: { added: 1 } }), false);
        assert.deepEqual(byId(await b.processSnapshotsRead!()).map((p) => p.id), ['a', 'b']);
        assert.equal(await b.processSnapshotsRetire!({ before: T + 10 }), 1);
        const read = await a.processSnapshotsRead!();
        assert.deepEqual([read.processes.map((p) => p.id), read.retired], [['b'], { q: { added: 4 } }]);
      }));
  });
}
