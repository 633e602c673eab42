import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getJob, jobId, newRow, T, withStore, workerId, type DriverContext } from './harness.ts';

const LEASE_EXPIRED = 'lease expired: the worker died, stalled, or lost its connection';

/**
 * The optional methods of stores shared by many processes: the worker registry, leadership,
 * upkeep. A test runs only when the store has the methods it calls (else it is skipped, saying so).
 */
export function clusterArea(ctx: DriverContext): void {
  const registry = ctx.skip('cluster', 'workerRegister', 'workerHeartbeat', 'workersReapDead');
  const leadership = ctx.skip('cluster', 'asLeader', 'leaderResign', 'shared');
  describe('many processes: registry, leadership, upkeep', () => {
    it('a process that stops beating is presumed dead: its leases (and only its) end as expired attempts, returned with their tokens', { skip: registry }, () =>
      withStore(ctx, async (store) => {
        const w = { id: workerId(1), host: 'host-a', pid: 101 };
        const alive = { id: workerId(2), host: 'host-b', pid: 102 };
        await store.workerRegister!(w, T, 1000);
        await store.workerRegister!(alive, T, 60_000);
        await store.jobsInsertMany([newRow(1), newRow(2), newRow(3), newRow(4, { maxStalls: 1 })]);
        const claim = async (worker?: string) => (await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 600_000, now: T, workerId: worker }))[0]!;
        const [mine, theirs, nobody, poison] = [await claim(w.id), await claim(alive.id), await claim(), await claim(w.id)];

        assert.equal(await store.workerHeartbeat!(w.id, T + 500, 1000), true);
        assert.deepEqual(await store.workersReapDead!({ now: T + 1499, limit: 10 }), [], 'the heartbeat moved its deadline to T + 1500');
        const reaped = await store.workersReapDead!({ now: T + 1500, limit: 10 });
        assert.deepEqual([...reaped].sort((a, b) => (a.id < b.id ? -1 : 1)), [
          { id: mine.id, token: 1, queue: 'q', state: 'ready', deadReason: null },
          { id: poison.id, token: 1, queue: 'q', state: 'dead', deadReason: 'poison' },
        ]);
        const ended = await getJob(store, mine.id);
        assert.deepEqual([ended.state, ended.stalls, ended.leaseExpiresAt, ended.lastError, ended.history.at(-1)?.outcome], ['ready', 1, null, LEASE_EXPIRED, 'expired']);
        assert.deepEqual((await store.jobsGet([theirs.id, nobody.id])).map((j) => j?.state), ['active', 'active']);

        assert.equal(await store.workerHeartbeat!(w.id, T + 1600, 1000), false, 'a process presumed dead is told so');
        assert.deepEqual(await store.workersReapDead!({ now: T + 1600, limit: 10 }), [], 'and forgotten');
        await store.workerRegister!(w, T + 1700, 1000);
        assert.equal(await store.workerHeartbeat!(w.id, T + 1800, 1000), true, 'it may register again');
      }));

    it('an extend naming another process moves the lease to it: the lease no longer dies with the first', { skip: registry }, () =>
      withStore(ctx, async (store) => {
        await store.workerRegister!({ id: workerId(1), host: 'a', pid: 1 }, T, 1000);
        await store.workerRegister!({ id: workerId(2), host: 'b', pid: 2 }, T, 5000);
        await store.jobsInsertMany([newRow(1)]);
        const [job] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 600_000, now: T, workerId: workerId(1) });
        assert.deepEqual(await store.jobsExtend([{ lease: { jobId: job!.id, token: 1 }, leaseMs: 600_000, workerId: workerId(2) }], T + 10), [{ ok: true, leaseExpiresAt: T + 600_010 }]);
        assert.deepEqual(await store.workersReapDead!({ now: T + 1000, limit: 10 }), [], 'the first process died holding nothing');
        assert.deepEqual(await store.workersReapDead!({ now: T + 5000, limit: 10 }), [{ id: job!.id, token: 1, queue: 'q', state: 'ready', deadReason: null }]);
      }));

    it('a process is never presumed dead by itself: with `self`, its lapsed registration and its leases are left alone', { skip: registry }, () =>
      withStore(ctx, async (store) => {
        const me = { id: workerId(1), host: 'a', pid: 1 };
        await store.workerRegister!(me, T, 1000);
        await store.jobsInsertMany([newRow(1)]);
        const [job] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 600_000, now: T, workerId: me.id });
        assert.deepEqual(await store.workersReapDead!({ now: T + 5000, limit: 10, self: me.id }), [], 'the caller is running');
        assert.equal(await store.workerHeartbeat!(me.id, T + 5001, 1000), true, 'and still registered');
        assert.deepEqual(await store.workersReapDead!({ now: T + 7000, limit: 10, self: workerId(2) }), [{ id: job!.id, token: 1, queue: 'q', state: 'ready', deadReason: null }], 'to any other process it is dead');
        assert.equal(await store.workerHeartbeat!(me.id, T + 7001, 1000), false);
      }));

    it('unregister: the process is gone, its heartbeat refused', { skip: ctx.skip('cluster', 'workerRegister', 'workerHeartbeat', 'workerUnregister') }, () =>
      withStore(ctx, async (store) => {
        await store.workerRegister!({ id: workerId(1), host: 'a', pid: 1 }, T, 60_000);
        await store.workerUnregister!(workerId(1));
        assert.equal(await store.workerHeartbeat!(workerId(1), T + 1, 60_000), false);
        await store.workerUnregister!(workerId(1));
      }));

    it('leadership: one holder at a time across stores, renewed by its holder, handed over by resigning', { skip: leadership }, () =>
      withStore(ctx, async (a, d) => {
        const b = await d.open();
        const [holderA, holderB] = [workerId(1), workerId(2)];
        let ran = 0;
        const duty = async (value: string) => {
          ran++;
          return value;
        };
        assert.deepEqual(await a.asLeader!('maintenance', holderA, 60_000, () => duty('a1')), { led: true, value: 'a1' });
        assert.deepEqual(await b.asLeader!('maintenance', holderB, 60_000, () => duty('b1')), { led: false });
        assert.equal(ran, 1, 'a duty runs only while its process leads');
        assert.deepEqual(await a.asLeader!('maintenance', holderA, 60_000, () => duty('a2')), { led: true, value: 'a2' });
        assert.deepEqual(await b.asLeader!('other duty', holderB, 60_000, () => duty('b2')), { led: true, value: 'b2' }, 'names lead apart');
        await b.leaderResign!('maintenance', holderB);
        assert.deepEqual(await b.asLeader!('maintenance', holderB, 60_000, () => duty('b3')), { led: false }, 'only the holder can resign');
        await a.leaderResign!('maintenance', holderA);
        assert.deepEqual(await b.asLeader!('maintenance', holderB, 60_000, () => duty('b4')), { led: true, value: 'b4' });
        assert.deepEqual(await a.asLeader!('maintenance', holderA, 60_000, () => duty('a3')), { led: false });
      }));

    it('a leader\'s duty works on the store it is given; its writes commit with it, or not at all when it throws', { skip: leadership }, () =>
      withStore(ctx, async (a, d) => {
        const b = await d.open();
        const led = await a.asLeader!('maintenance', workerId(1), 60_000, async (s) => {
          await s.jobsInsertMany([newRow(1)]);
          return (await s.jobsGet([jobId(1)]))[0]?.state;
        });
        assert.deepEqual(led, { led: true, value: 'ready' });
        assert.equal((await getJob(b, jobId(1))).state, 'ready', 'committed: another store sees it');
        const boom = new Error('the duty failed');
        await assert.rejects(
          a.asLeader!('maintenance', workerId(1), 60_000, async (s) => {
            await s.jobsInsertMany([newRow(2)]);
            throw boom;
          }),
          (err) => err === boom,
        );
        assert.deepEqual(await b.jobsGet([jobId(2)]), [null], 'the failed duty wrote nothing');
      }));

    it('unservable: ready jobs whose required tags no live registration\'s consumers of their queue cover, counted per queue', { skip: ctx.skip('cluster', 'workerRegister', 'workerHeartbeat', 'workerAnnounce') }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([
          newRow(1, { requires: 'gpu' }), newRow(2, { requires: 'gpu' }), newRow(3), newRow(4, { requires: 'gpu,region:eu' }),
          newRow(5, { requires: 'gpu', state: 'scheduled', runAt: T + 60_000 }), newRow(6, { queue: 'r', requires: 'gpu' }),
        ]);
        const unservable = async (now = T) => Object.fromEntries((await store.queueStats(null, now)).map((s) => [s.queue, s.unservable]));
        assert.deepEqual(await unservable(), { q: 3, r: 1 }, 'no process: every ready job that requires tags (not the scheduled one)');
        await store.workerRegister!({ id: workerId(1), host: 'a', pid: 1, consumers: [{ queue: 'q', tags: [], capacity: 1 }] }, T, 1000);
        assert.deepEqual(await unservable(), { q: 3, r: 1 }, 'a consumer without tags takes none of them');
        await store.workerAnnounce!(workerId(1), [{ queue: 'q', tags: [], capacity: 1 }, { queue: 'q', tags: ['gpu'], capacity: 2 }]);
        assert.deepEqual(await unservable(), { q: 1, r: 1 }, 'a gpu consumer of q takes jobs 1 and 2, not 4 (region:eu too), nor r\'s');
        assert.equal((await store.queueStats('q', T))[0]!.unservable, 1, 'the same for one queue');
        await store.workerRegister!({ id: workerId(2), host: 'b', pid: 2, consumers: [{ queue: 'q', tags: ['gpu', 'region:eu', 'ssd'], capacity: 1 }] }, T, 1000);
        assert.deepEqual(await unservable(), { q: 0, r: 1 }, 'a superset covers job 4');
        assert.equal(await store.workerHeartbeat!(workerId(1), T + 500, 5000), true);
        assert.deepEqual(await unservable(T + 1000), { q: 1, r: 1 }, 'the second registration lapsed: its consumers no longer count');
        assert.deepEqual(await unservable(T + 5500), { q: 3, r: 1 }, 'neither is live');
        await store.jobsClaim({ queue: 'q', limit: 10, leaseMs: 1000, now: T, tags: ['gpu'] });
        assert.deepEqual(await unservable(T + 5500), { q: 1, r: 1 }, 'active jobs do not count');
      }));

    it('tablesVacuum says whether it did anything, and leaves the data as it was', { skip: ctx.skip('cluster', 'tablesVacuum') }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([newRow(1), newRow(2)]);
        const before = await store.jobsGet([jobId(1), jobId(2)]);
        assert.equal(typeof (await store.tablesVacuum!()), 'boolean');
        assert.deepEqual(await store.jobsGet([jobId(1), jobId(2)]), before);
      }));
  });
}
