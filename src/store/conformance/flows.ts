import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, InvalidStateError, QueueFullError, UnrecoverableError } from '../../core/errors.ts';
import { FLOW_WAIT_AT, type ChildResult, type FlowRule, type FlowState } from '../../core/flow.ts';
import type { Job, JobState } from '../../core/job.ts';
import { withHarness, type Harness, type HarnessTarget } from './harness.ts';

/** Waits (by the engine's own work, never by time) until the job is in `state`; fails after many rounds of settling. */
async function waitState(h: Harness, id: string, state: JobState): Promise<Job> {
  for (let i = 0; i < 200; i++) {
    const job = await h.api.get(id);
    if (job.state === state) return job;
    await h.settled();
  }
  assert.fail(`job ${id} never became ${state} (it is ${(await h.api.get(id)).state})`);
}

/** Waits until the flow of `parentId` is in `state`. */
async function waitFlow(h: Harness, parentId: string, state: FlowState): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await h.api.getFlow(parentId)).state === state) return;
    await h.settled();
  }
  assert.fail(`flow ${parentId} never became ${state} (it is ${(await h.api.getFlow(parentId)).state})`);
}

/** A flow whose parent is in `p` and whose children are in `a` and `b` (payloads 1 and 2). */
function twoChildren(h: Harness, rule: FlowRule) {
  return h.api.addFlow({ queue: 'p', payload: { parent: true }, onChildFailure: rule, children: [{ queue: 'a', payload: 1 }, { queue: 'b', payload: 2, name: 'second' }] });
}

/** The parent's handler: records what it saw and returns how many children it was given. */
function recordParent(h: Harness): { seen: () => ChildResult[] | undefined } {
  let seen: ChildResult[] | undefined;
  h.api.work('p', async (job) => {
    seen = job.childResults;
    return (job.childResults ?? []).length;
  });
  return { seen: () => seen };
}

/** Workers for the children of twoChildren: the one in `a` completes with 'ok', the one in `b` fails for good with `error`. */
function childAOkChildBFails(h: Harness, error: string): void {
  h.api.work('a', async () => 'ok');
  h.api.work('b', async () => {
    throw new UnrecoverableError(error);
  });
}

/** Flows (docs/flows.md): a parent that runs once its children have finished, with a rule for a failed child. */
export function flowsSuite(target: HarnessTarget): void {
  describe('flows', () => {
    it('runs the parent once every child (in other queues) has completed, with their results in order; getFlow shows the tree', () =>
      withHarness(target, async (h) => {
        const { parent, children } = await twoChildren(h, 'fail');
        assert.deepEqual([parent.state, parent.runAt, children.map((c) => [c.queue, c.state])], ['scheduled', FLOW_WAIT_AT, [['a', 'ready'], ['b', 'ready']]]);
        const waiting = await h.api.getFlow(parent.id);
        assert.deepEqual([waiting.state, waiting.queue, waiting.onChildFailure, waiting.settledAt], ['waiting', 'p', 'fail', null]);
        assert.deepEqual(waiting.children.map((c) => [c.id, c.queue, c.name, c.job?.state]), [[children[0]!.id, 'a', 'default', 'ready'], [children[1]!.id, 'b', 'second', 'ready']]);
        const parentRun = recordParent(h);
        h.api.work('b', async (job) => ({ b: job.payload }));
        await waitState(h, children[1]!.id, 'completed');
        assert.equal((await h.api.get(parent.id)).state, 'scheduled', 'one child left: the parent waits');
        h.api.work('a', async (job) => ({ a: job.payload }));
        const done = await waitState(h, parent.id, 'completed');
        const expected: ChildResult[] = [
          { id: children[0]!.id, queue: 'a', name: 'default', state: 'completed', result: { a: 1 }, error: null },
          { id: children[1]!.id, queue: 'b', name: 'second', state: 'completed', result: { b: 2 }, error: null },
        ];
        assert.deepEqual(parentRun.seen(), expected);
        assert.deepEqual([done.result, done.childResults], [2, expected]);
        const tree = await h.api.getFlow(parent.id);
        assert.equal(tree.state, 'ready');
        assert.ok(tree.settledAt !== null);
        assert.deepEqual([tree.parent?.state, ...tree.children.map((c) => c.job?.state)], ['completed', 'completed', 'completed']);
        const [stats] = await h.api.stats('p');
        assert.deepEqual([stats!.counts.scheduled, stats!.counts.ready, stats!.counts.completed], [0, 0, 1], 'the counts follow the parent');
      }));

    it('rule fail: the first failed child makes the parent dead at once, naming the child, without waiting for the others', () =>
      withHarness(target, async (h) => {
        const { parent, children } = await twoChildren(h, 'fail');
        h.api.work('a', async () => {
          throw new UnrecoverableError('card declined');
        });
        const dead = await waitState(h, parent.id, 'dead');
        assert.equal(dead.deadReason, 'child-failed');
        assert.match(dead.lastError ?? '', new RegExp(`child ${children[0]!.id} \\(queue a\\) is dead: .*card declined`));
        assert.equal((await h.api.get(children[1]!.id)).state, 'ready', 'the other child was not waited for');
        await waitFlow(h, parent.id, 'failed');
        const [stats] = await h.api.stats('p');
        assert.deepEqual([stats!.counts.scheduled, stats!.counts.dead], [0, 1], 'the counts follow the parent');
      }));

    it('a parent made ready takes its turn as a job added then would, under the priority policy too', () =>
      withHarness(target, async (h) => {
        await h.api.configureQueue('p', { policy: 'priority' });
        const earlier = await h.api.queue('p').add('earlier', { priority: -1 }); // waits one aging step behind jobs of priority 0
        const { parent } = await h.api.addFlow({ queue: 'p', payload: 'parent', onChildFailure: 'fail', children: [{ queue: 'a', payload: 1 }] });
        h.api.work('a', async () => 'done');
        await waitState(h, parent.id, 'ready');
        await h.clock.advance(5);
        const later = await h.api.queue('p').add('later');
        const order = (await h.spool.claim('p', 3)).map((j) => j.id);
        assert.deepEqual(order, [parent.id, later.id, earlier.id], 'the parent is served as a job added when it became ready, not at its waiting time');
      }));

    it('rule ignore: the parent runs once every child has finished, with the completed children only', () =>
      withHarness(target, async (h) => {
        const { parent, children } = await twoChildren(h, 'ignore');
        const parentRun = recordParent(h);
        childAOkChildBFails(h, 'no');
        await waitState(h, parent.id, 'completed');
        assert.deepEqual(parentRun.seen()?.map((c) => [c.id, c.state, c.result]), [[children[0]!.id, 'completed', 'ok']]);
      }));

    it('rule continue: the parent runs with every child, the failed ones with their state and error', () =>
      withHarness(target, async (h) => {
        const { parent, children } = await twoChildren(h, 'continue');
        const parentRun = recordParent(h);
        childAOkChildBFails(h, 'broken');
        await waitState(h, parent.id, 'completed');
        const seen = parentRun.seen()!;
        assert.deepEqual(seen.map((c) => [c.id, c.state, c.result]), [[children[0]!.id, 'completed', 'ok'], [children[1]!.id, 'dead', null]]);
        assert.match(seen[1]!.error ?? '', /broken/);
      }));

    it('retention keeps the finished children of a waiting flow: their results reach the parent', () =>
      withHarness(target, async (h) => {
        const { parent, children } = await twoChildren(h, 'continue');
        h.api.work('a', async () => 'kept');
        await waitState(h, children[0]!.id, 'completed');
        await h.clock.advance(1);
        await h.spool.cleanup(); // completedRetentionMs 0: every other completed job would go
        assert.equal((await h.api.get(children[0]!.id)).state, 'completed');
        h.api.work('b', async () => 'second');
        const ready = await waitState(h, parent.id, 'ready');
        assert.deepEqual(ready.childResults?.map((c) => [c.state, c.result]), [['completed', 'kept'], ['completed', 'second']]);
        await h.clock.advance(1);
        await h.spool.cleanup(); // the flow has settled: its children are ordinary finished jobs again
        assert.deepEqual((await h.api.getFlow(parent.id)).children.map((c) => c.job), [null, null]);
      }, { completedRetentionMs: 0 }));

    it('a cancelled child and a deleted child count as failed: the parent never stays waiting', () =>
      withHarness(target, async (h) => {
        const { parent, children } = await twoChildren(h, 'continue');
        await h.api.cancel(children[0]!.id);
        assert.equal((await h.api.get(parent.id)).state, 'scheduled', 'one child left: the parent waits');
        await h.api.deleteJob(children[1]!.id);
        const ready = await waitState(h, parent.id, 'ready');
        assert.deepEqual(ready.childResults?.map((c) => [c.id, c.state, c.error]), [[children[0]!.id, 'cancelled', 'cancelled'], [children[1]!.id, 'deleted', 'deleted']]);
        const tree = await h.api.getFlow(parent.id);
        assert.deepEqual([tree.state, tree.children.map((c) => c.job?.state ?? null)], ['ready', ['cancelled', null]]);
      }));

    it('a purged queue, a deleted queue and a bulk cancel fail their children: the sweep settles the parents', () =>
      withHarness(target, async (h) => {
        const purged = await h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'fail', children: [{ queue: 'kids', payload: 1 }] });
        const dropped = await h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'continue', children: [{ queue: 'gone', payload: 1 }] });
        const bulk = await h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'continue', children: [{ queue: 'bulk', payload: 1 }] });
        assert.equal(await h.api.purge('kids'), 1);
        await h.api.deleteQueue('gone');
        assert.equal((await h.api.bulk('cancel', { queue: 'bulk' })).changed, 1);
        await h.spool.runMaintenance(); // the leader's sweep: nothing else settles these
        const dead = await waitState(h, purged.parent.id, 'dead');
        assert.match(dead.lastError ?? '', new RegExp(`child ${purged.children[0]!.id} \\(queue kids\\) is deleted`));
        const ready = await waitState(h, dropped.parent.id, 'ready');
        assert.deepEqual(ready.childResults?.map((c) => c.state), ['deleted']);
        assert.deepEqual((await waitState(h, bulk.parent.id, 'ready')).childResults?.map((c) => c.state), ['cancelled']);
      }));

    it('a child that expired (not started within its ttlMs) counts as failed: the maintenance tick settles the parent', () =>
      withHarness(target, async (h) => {
        const { parent, children } = await h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'fail', children: [{ queue: 'kids', payload: 1, ttlMs: 1000 }] });
        await h.clock.advance(2000); // the ticks on the way: the TTL sweep, then the flow sweep
        const dead = await waitState(h, parent.id, 'dead');
        assert.match(dead.lastError ?? '', new RegExp(`child ${children[0]!.id} \\(queue kids\\) is dead: expired`));
        assert.deepEqual(dead.childResults?.map((c) => [c.state, c.error]), [['dead', 'expired: not started within ttlMs']]);
      }));

    it('the parent cancelled while it waits ends the flow; its children go on; a waiting parent cannot be retried', () =>
      withHarness(target, async (h) => {
        const { parent, children } = await twoChildren(h, 'fail');
        await assert.rejects(h.api.retry(parent.id), InvalidStateError);
        await h.api.cancel(parent.id);
        h.api.work('a', async () => 1);
        h.api.work('b', async () => 2);
        await waitState(h, children[0]!.id, 'completed');
        await waitState(h, children[1]!.id, 'completed');
        await waitFlow(h, parent.id, 'ended');
        assert.equal((await h.api.get(parent.id)).state, 'cancelled');
      }));

    it('an addFlow that fails writes nothing: a full bounded queue refuses the whole flow', () =>
      withHarness(target, async (h) => {
        await h.api.configureQueue('kids', { maxLength: 1 });
        await h.api.queue('kids').add('already here');
        const err = await h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'fail', children: [{ queue: 'other', payload: 1 }, { queue: 'kids', payload: 2 }] }).catch((e: unknown) => e);
        assert.ok(err instanceof QueueFullError, String(err));
        assert.deepEqual((await h.api.stats()).map((s) => [s.queue, s.length]).sort(), [['kids', 1]]);
      }, { queueFullWaitMs: 0 }));

    it('refuses more children than flowChildrenMax, an unknown rule or option, and keys, naming the field', () =>
      withHarness(target, async (h) => {
        const refused = async (p: Promise<unknown>, field: string, message: RegExp) => {
          const err = await p.catch((e: unknown) => e);
          assert.ok(err instanceof InvalidArgumentError, String(err));
          assert.equal(err.field, field);
          assert.match(err.message, message);
        };
        const kids = (n: number) => Array.from({ length: n }, (_, i) => ({ queue: 'a', payload: i }));
        await refused(h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'fail', children: kids(3) }), 'children', /at most 2 children \(flowChildrenMax; got 3\)/);
        await refused(h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'explode' as never, children: kids(1) }), 'onChildFailure', /one of fail, ignore, continue/);
        await refused(h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'fail', children: [{ queue: 'a', payload: 0, priorty: 1 } as never] }), 'children[0].priorty', /did you mean "priority"/);
        await refused(h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'fail', children: kids(1), delayMs: 5 } as never), 'delayMs', /runs when its children have finished/);
        await refused(h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'fail', children: [{ queue: 'a', payload: 0, uniqueKey: 'k' } as never] }), 'children[0].uniqueKey', /cannot have it/);
        await refused(h.api.addFlow({ queue: 'p', payload: 0, onChildFailure: 'fail', children: [] }), 'children', /non-empty array/);
        assert.deepEqual(await h.api.stats(), [], 'nothing was written');
      }, { flowChildrenMax: 2 }));
  });
}
