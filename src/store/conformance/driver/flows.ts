import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueueFullError } from '../../../core/errors.ts';
import { FLOW_WAIT_AT, type FlowRule } from '../../../core/flow.ts';
import type { Store } from '../../store.ts';
import { jobId, newRow, T, withStore, type DriverContext } from './harness.ts';

/** A flow of parent 1 (queue p) and children 2 and 3 (queues a and b). */
function addFlow(store: Store, rule: FlowRule) {
  return store.flowInsert({ parent: newRow(1, { queue: 'p', state: 'scheduled', runAt: FLOW_WAIT_AT }), children: [newRow(2, { queue: 'a' }), newRow(3, { queue: 'b' })], rule });
}

/** Leases and completes (or fails for good) the one ready job of `queue`; returns the store's result. */
async function finish(store: Store, queue: string, how: 'complete' | 'fail') {
  const [job] = await store.jobsClaim({ queue, limit: 1, leaseMs: 60_000, now: T });
  const lease = { jobId: job!.id, token: job!.leaseToken };
  if (how === 'complete') return (await store.jobsComplete([{ lease, result: JSON.stringify(queue) }], T))[0]!;
  return (await store.jobsFail([{ lease, error: 'no', retryAt: T, unrecoverable: true }], T))[0]!;
}

/** Flows (docs/flows.md): the store's half, FlowStore. */
export function flowsArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('flows (flowInsert, flowsSettle, flowRead, flowsForget)', () => {
    it('flowInsert writes the parent, the children and the flow; an ack of a child names its flow; the last one makes the parent ready with the results', { skip }, () =>
      withStore(ctx, async (store) => {
        await addFlow(store, 'continue');
        assert.deepEqual(await store.flowRead(jobId(1)), {
          parentId: jobId(1), queue: 'p', rule: 'continue', state: 'waiting', createdAt: T, settledAt: null,
          children: [{ id: jobId(2), queue: 'a', name: 'default' }, { id: jobId(3), queue: 'b', name: 'default' }],
        });
        assert.deepEqual(await finish(store, 'a', 'complete'), { ok: true, flowParent: jobId(1) });
        assert.deepEqual(await store.flowsSettle({ parents: [jobId(1)] }, T), { settled: [], next: null }, 'one child left');
        assert.deepEqual(await finish(store, 'b', 'fail'), { ok: true, state: 'dead', deadReason: 'unrecoverable', flowParent: jobId(1) });
        assert.deepEqual(await store.flowsSettle({ children: [jobId(3)] }, T + 5), { settled: [{ parentId: jobId(1), queue: 'p', state: 'ready' }], next: null });
        const [parent] = await store.jobsGet([jobId(1)]);
        assert.deepEqual([parent!.state, parent!.runAt, parent!.childResults?.map((c) => [c.state, c.result, c.error])], ['ready', T + 5, [['completed', 'a', null], ['dead', null, 'no']]]);
        assert.equal((await store.flowRead(jobId(1)))!.state, 'ready');
        assert.deepEqual((await store.queueStats('p', T))[0]!.counts.ready, 1);
        assert.deepEqual(await store.flowsSettle({ parents: [jobId(1)] }, T), { settled: [], next: null }, 'a flow settles once');
      }));

    it('rule fail: a failed child makes the parent dead at once; a page of the sweep settles what the hot paths did not', { skip }, () =>
      withStore(ctx, async (store) => {
        await addFlow(store, 'fail');
        await store.jobsCancel([jobId(2)], T);
        const { settled, next } = await store.flowsSettle({ after: '', limit: 10 }, T);
        assert.deepEqual([settled, next], [[{ parentId: jobId(1), queue: 'p', state: 'failed' }], null]);
        const [parent] = await store.jobsGet([jobId(1)]);
        assert.deepEqual([parent!.state, parent!.deadReason], ['dead', 'child-failed']);
        assert.match(parent!.lastError ?? '', new RegExp(`child ${jobId(2)} \\(queue a\\) is cancelled`));
      }));

    it('a waiting parent is never promoted nor retried; a deleted parent ends its flow, which is then forgotten', { skip }, () =>
      withStore(ctx, async (store) => {
        await addFlow(store, 'ignore');
        assert.deepEqual(await store.jobsPromoteDue({ now: T + 1e12, limit: 10 }), []);
        assert.deepEqual(await store.jobsRetry([jobId(1)], T), [{ found: true, queue: 'p', previous: 'scheduled', retried: false }]);
        await store.jobsDelete([jobId(1)], T);
        assert.deepEqual((await store.flowsSettle({ parents: [jobId(1)] }, T)).settled, [{ parentId: jobId(1), queue: 'p', state: 'ended' }]);
        assert.equal(await store.flowsForget(10), 1);
        assert.equal(await store.flowRead(jobId(1)), null);
      }));

    it('retention keeps the finished children of a waiting flow; flowInsert refused writes nothing', { skip }, () =>
      withStore(ctx, async (store) => {
        await addFlow(store, 'continue');
        await finish(store, 'a', 'complete');
        assert.equal(await store.jobsDeleteFinished({ before: { completed: T + 1, dead: T + 1, cancelled: T + 1 }, limit: 10 }), 0);
        assert.equal((await store.jobsGet([jobId(2)]))[0]!.state, 'completed');
        await store.jobsInsertMany([newRow(10, { queue: 'full', bound: { maxLength: 1, overflow: 'reject' } })]);
        await assert.rejects(store.flowInsert({ parent: newRow(11, { queue: 'p2', state: 'scheduled', runAt: FLOW_WAIT_AT }), children: [newRow(12, { queue: 'full', bound: { maxLength: 1, overflow: 'reject' } })], rule: 'fail' }), QueueFullError);
        assert.deepEqual(await store.jobsGet([jobId(11), jobId(12)]), [null, null]);
        assert.equal(await store.flowRead(jobId(11)), null);
      }));
  });
}
