/**
 * The cluster view on one store shared by two views (two processes, as far as the store can
 * tell): sums over the snapshots and the retired sums, liveness of slots and consumers, and
 * totals that never go down when a process is retired, even when it comes back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import type { ConsumerInfo } from '../model/overview.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { CLUSTER, ClusterView } from './cluster-view.ts';
import type { QueueCounts } from './telemetry.ts';

const counts = (added: number, completed = 0): QueueCounts => ({ added, claimed: completed, completed, failed: 0, dead: 0, expired: 0, serviceMsSum: completed * 10, serviceCount: completed, systemMsSum: 0, systemCount: 0, dropped: 0 });

/** A process's memory, as the test sets it. */
function fakeLocal() {
  const local = {
    counts: new Map<string, QueueCounts>(),
    slots: new Map<string, { slots: number; inFlight: number }>(),
    consumers: [] as Omit<ConsumerInfo, 'process'>[],
    leading: false,
  };
  return { local, view: { counts: () => new Map(local.counts), slots: () => new Map(local.slots), consumers: () => [...local.consumers], leading: () => local.leading } };
}

function setup() {
  const clock = new ManualClock();
  const store = new SqliteStore({ path: ':memory:' });
  const errors: unknown[] = [];
  const a = fakeLocal();
  const b = fakeLocal();
  const viewA = new ClusterView({ store, clock, id: 'aaaaaaaa-0000', local: a.view, onError: (e) => errors.push(e) });
  const viewB = new ClusterView({ store, clock, id: 'bbbbbbbb-0000', local: b.view, onError: (e) => errors.push(e) });
  return { clock, store, errors, a: a.local, b: b.local, viewA, viewB };
}

test('each view sums every process\'s counts (its own from memory), and the live processes\' slots and consumers', async () => {
  const { clock, store, errors, a, b, viewA, viewB } = setup();
  try {
    a.counts.set('q', counts(10, 4));
    a.slots.set('q', { slots: 8, inFlight: 2 });
    a.consumers.push({ id: 'in-process', client: 'workers in this process', tags: {}, address: '', queues: [{ queue: 'q', slots: 8, inFlight: 2 }], connectedAt: 1, lastSeenAt: 2 });
    b.counts.set('q', counts(1));
    await viewA.publish(false);
    await viewB.refresh();
    assert.deepEqual(viewB.counts().get('q'), counts(11, 4), 'A\'s published counts and B\'s own');
    assert.deepEqual(viewB.slots().get('q'), { slots: 8, inFlight: 2 });
    const [c] = viewB.consumers();
    assert.equal(c!.id, 'in-process@aaaaaaaa', 'another process\'s in-process workers are named by their process');
    assert.deepEqual(c!.process, viewA.process);

    b.counts.set('q', counts(3)); // B's own numbers are read fresh, without a refresh
    assert.equal(viewB.counts().get('q')!.added, 13);

    // A stops publishing: past liveMs its slots and consumers no longer count; its counts still do.
    await clock.advance(CLUSTER.liveMs + 1);
    await viewB.refresh();
    assert.equal(viewB.slots().get('q'), undefined);
    assert.deepEqual(viewB.consumers(), []);
    assert.equal(viewB.counts().get('q')!.added, 13);
    assert.deepEqual(errors, []);
  } finally {
    await store.close();
  }
});

test('a publish happens when something changed or a heartbeat is due, not every tick', async () => {
  const { clock, store, a, viewA } = setup();
  try {
    a.counts.set('q', counts(1));
    await viewA.publish(false);
    const at = () => store.processSnapshotsRead().then((r) => r.processes[0]!.at);
    const first = await at();
    await clock.advance(1000);
    await viewA.publish(false);
    assert.equal(await at(), first, 'nothing changed: no write');
    a.counts.set('q', counts(2));
    await viewA.publish(false);
    assert.equal(await at(), first + 1000, 'changed: written');
    await clock.advance(CLUSTER.heartbeatMs);
    await viewA.publish(false);
    assert.equal(await at(), first + 1000 + CLUSTER.heartbeatMs, 'a heartbeat');
  } finally {
    await store.close();
  }
});

test('totals never go down: a retired process\'s counts stay in the sums, and one that comes back is not counted twice', async () => {
  const { clock, store, a, b, viewA, viewB } = setup();
  try {
    await store.jobsInsertMany([{ id: '01900000-0000-7000-8000-000000000001', queue: 'q', name: 'x', payload: '1', priority: 0, runAt: clock.now(), state: 'ready', maxAttempts: 1, maxStalls: 1, timeoutMs: 0, trace: null, group: null, createdAt: clock.now() }]);
    a.counts.set('q', counts(10, 5));
    b.counts.set('q', counts(1));
    await viewA.publish(false);
    await viewB.publish(false);
    await viewA.refresh();
    await viewB.refresh();
    const seen: number[] = [];
    const look = async () => {
      await viewA.refresh();
      await viewB.refresh();
      const [ta, tb] = [viewA.counts().get('q')!.added, viewB.counts().get('q')!.added];
      assert.equal(ta, tb, 'both views agree');
      seen.push(ta);
    };
    await look();

    // A falls silent (paused, cut off from the store) long enough to be retired; B keeps publishing.
    await clock.advance(CLUSTER.retireAfterMs + 1);
    await viewB.publish(true);
    assert.equal(await store.processSnapshotsRetire({ before: clock.now() - CLUSTER.retireAfterMs }), 1, 'A is retired');
    await look();
    // A comes back: its put finds its row gone; it publishes only what it counted since.
    a.counts.set('q', counts(12, 6));
    await viewA.publish(false);
    await look();
    const read = await store.processSnapshotsRead();
    assert.equal(read.retired.q!.added, 10);
    assert.equal(read.processes.find((p) => p.id === viewA.process.id)!.counts.q!.added, 2, 'A\'s row holds what came after its retirement');
    a.counts.set('q', counts(20, 6));
    await viewA.publish(false);
    await look();
    assert.deepEqual(seen, [11, 11, 13, 21]);
  } finally {
    await store.close();
  }
});

test('a view that reads its own row retired before it publishes again counts itself once', async () => {
  const { clock, store, a, viewA } = setup();
  try {
    await store.jobsInsertMany([{ id: '01900000-0000-7000-8000-000000000001', queue: 'q', name: 'x', payload: '1', priority: 0, runAt: clock.now(), state: 'ready', maxAttempts: 1, maxStalls: 1, timeoutMs: 0, trace: null, group: null, createdAt: clock.now() }]);
    a.counts.set('q', counts(7));
    await viewA.publish(false);
    await viewA.refresh();
    assert.equal(viewA.counts().get('q')!.added, 7);
    await clock.advance(CLUSTER.retireAfterMs + 1);
    await store.processSnapshotsRetire({ before: clock.now() - CLUSTER.retireAfterMs });
    await viewA.refresh(); // the retired sums hold its 7 now, and its row is gone
    assert.equal(viewA.counts().get('q')!.added, 7, 'not 14');
    a.counts.set('q', counts(9));
    assert.equal(viewA.counts().get('q')!.added, 9);
    await viewA.publish(false);
    await viewA.refresh();
    assert.equal(viewA.counts().get('q')!.added, 9);
    assert.equal((await store.processSnapshotsRead()).processes[0]!.counts.q!.added, 2);
  } finally {
    await store.close();
  }
});
