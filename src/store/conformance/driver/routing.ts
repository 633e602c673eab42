import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, QueueFullError } from '../../../core/errors.ts';
import type { QueueBound } from '../../../core/queue-config.ts';
import { jobId, newRow, T, withStore, type DriverContext } from './harness.ts';

const reject = (maxLength: number): QueueBound => ({ maxLength, overflow: 'reject' });

/** Topic routing (docs/routing.md): bindings, the routing version, and publishes checked against it. */
export function routingArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('topic routing (bindings, topicPublishEach)', () => {
    it('bindings: a pair at most once, each change raises the version, at most `max`; the read is one snapshot', { skip }, () =>
      withStore(ctx, async (store) => {
        const v0 = (await store.routingRead()).version;
        assert.equal(await store.bindingPut({ pattern: 'a.#', queue: 'q', now: T, max: 2 }), true);
        assert.equal(await store.bindingPut({ pattern: 'a.#', queue: 'q', now: T + 1, max: 2 }), false, 'already there');
        const v1 = (await store.routingRead()).version;
        assert.ok(v1 > v0, 'a bind raises the version');
        assert.equal(await store.bindingPut({ pattern: 'b', queue: 'q', now: T, max: 2 }), true);
        await assert.rejects(store.bindingPut({ pattern: 'c', queue: 'q', now: T, max: 2 }), (e) => e instanceof InvalidArgumentError && /bindingsMax/.test(e.message));
        assert.equal(await store.bindingPut({ pattern: 'b', queue: 'q', now: T, max: 2 }), false, 'a pair already there is not refused at the bound');
        assert.equal(await store.bindingDelete({ pattern: 'b', queue: 'q' }), true);
        assert.equal(await store.bindingDelete({ pattern: 'b', queue: 'q' }), false);
        await store.unroutedQueueSet('lost');
        const r = await store.routingRead();
        assert.deepEqual({ ...r, version: 0 }, { version: 0, bindings: [{ pattern: 'a.#', queue: 'q', createdAt: T }], unroutedQueue: 'lost', unrouted: 0 });
        assert.ok(r.version > v1 + 1, 'bind, unbind and the unrouted queue each raise it');
      }));

    it('topicPublishEach: a publish at the current version stores its rows and counts an unrouted one; a stale one stores nothing', { skip }, () =>
      withStore(ctx, async (store) => {
        const { version } = await store.routingRead();
        const outcomes = await store.topicPublishEach([
          { version, rows: [newRow(1, { queue: 'a' }), newRow(2, { queue: 'b' })], unrouted: false },
          { version: version - 1, rows: [newRow(3, { queue: 'a' })], unrouted: false },
          { version, rows: [], unrouted: true },
          { version, rows: [newRow(4, { queue: 'lost' })], unrouted: true },
        ]);
        assert.deepEqual(outcomes, [{ status: 'stored' }, { status: 'stale' }, { status: 'stored' }, { status: 'stored' }]);
        assert.deepEqual((await store.jobsGet([jobId(1), jobId(2), jobId(3), jobId(4)])).map((j) => j?.queue ?? null), ['a', 'b', null, 'lost']);
        assert.equal((await store.routingRead()).unrouted, 2);
        assert.deepEqual((await store.queueList()).map((q) => q.name).sort(), ['a', 'b', 'lost'], 'the queues of stored rows are created');
      }));

    it('topicPublishEach: each publish all or nothing; one refused (a full bounded queue) fails alone', { skip }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([newRow(1, { queue: 'small', bound: reject(1) })]);
        const { version } = await store.routingRead();
        const outcomes = await store.topicPublishEach([
          { version, rows: [newRow(2, { queue: 'big' }), newRow(3, { queue: 'small', bound: reject(1) })], unrouted: false },
          { version, rows: [newRow(4, { queue: 'big' })], unrouted: false },
          { version, rows: [newRow(5, { queue: 'big' })], unrouted: false },
        ]);
        assert.equal(outcomes[0]!.status, 'error');
        assert.ok((outcomes[0] as { error: Error }).error instanceof QueueFullError);
        assert.deepEqual(outcomes.slice(1), [{ status: 'stored' }, { status: 'stored' }]);
        assert.deepEqual((await store.jobsGet([jobId(2), jobId(3), jobId(4), jobId(5)])).map((j) => j?.queue ?? null), [null, null, 'big', 'big']);
        const [big] = await store.queueStats('big', T);
        assert.equal(big!.counts.ready, 2, 'the counts took back the refused publish\'s copy');
      }));
  });
}
