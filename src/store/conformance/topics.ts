import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, QueueFullError } from '../../core/errors.ts';
import { LIMITS } from '../../core/limits.ts';
import { withHarness, type Harness, type HarnessTarget } from './harness.ts';
import { lease } from './operator-support.ts';

/** The payloads of a queue's jobs, in id order. */
const payloads = async (h: Harness, queue: string): Promise<unknown[]> => (await h.api.list(queue)).map((j) => j.payload);

/** Topics and routing (docs/routing.md): bindings, fan-out copies, the unrouted rule, all or nothing. */
export function topicsSuite(target: HarnessTarget): void {
  describe('topics and routing', () => {
    it('a publish writes one copy per bound queue, once per queue however many of its bindings match', () =>
      withHarness(target, async (h) => {
        await h.api.bind('orders.*.created', 'billing');
        await h.api.bind('orders.#', 'audit');
        await h.api.bind('orders.eu.#', 'audit'); // a second binding of audit: still one copy
        await h.api.bind('shipping.#', 'shipping');
        const out = await h.api.publish('orders.eu.created', { order: 1 }, { name: 'created', priority: 3 });
        assert.equal(out.topic, 'orders.eu.created');
        assert.equal(out.unrouted, false);
        assert.deepEqual(out.jobs.map((j) => [j.queue, j.name, j.priority, j.state]), [['audit', 'created', 3, 'ready'], ['billing', 'created', 3, 'ready']]);
        assert.notEqual(out.jobs[0]!.id, out.jobs[1]!.id);
        for (const job of out.jobs) assert.deepEqual((await h.api.get(job.id)).payload, { order: 1 });
        await h.api.publish('orders.us.updated', { order: 2 }); // audit only
        assert.deepEqual(await payloads(h, 'audit'), [{ order: 1 }, { order: 2 }]);
        assert.deepEqual(await payloads(h, 'billing'), [{ order: 1 }]);
        assert.deepEqual(await h.api.stats('shipping').catch((e: Error) => e.name), 'QueueNotFoundError', 'a queue no publish reached is not made');
        const later = await h.api.publish('orders.eu.created', { order: 3 }, { delayMs: 60_000, group: 'acme' });
        assert.deepEqual(later.jobs.map((j) => [j.queue, j.state, j.runAt - h.clock.now(), j.group]), [['audit', 'scheduled', 60_000, 'acme'], ['billing', 'scheduled', 60_000, 'acme']]);
        for (const job of later.jobs) assert.equal((await h.api.get(job.id)).state, 'scheduled');
      }));

    it('each copy is an ordinary job of its queue: its own retries, dead letters and settings', () =>
      withHarness(target, async (h) => {
        await h.api.queue('strict').configure({ maxAttempts: 1 });
        await h.api.bind('payments.#', 'strict');
        await h.api.bind('payments.#', 'lenient');
        const { jobs } = await h.api.publish('payments.captured', { p: 1 });
        assert.deepEqual(jobs.map((j) => [j.queue, j.maxAttempts]), [['lenient', LIMITS.maxAttempts.default], ['strict', 1]]);
        const [strict] = await h.spool.claim('strict', 1);
        assert.equal(await h.spool.nack(lease(strict!), new Error('boom')), 'dead', 'the strict copy is dead after its one attempt');
        const [lenient] = await h.spool.claim('lenient', 1);
        assert.equal(await h.spool.nack(lease(lenient!), new Error('boom')), 'scheduled', 'the lenient copy retries on its own');
        await h.spool.claim('lenient', 1); // nothing: its retry waits for its backoff
        assert.equal((await h.api.get(jobs[0]!.id)).state, 'scheduled');
        assert.equal((await h.api.get(jobs[1]!.id)).state, 'dead');
      }));

    it('copies follow their queue\'s policy (fair tags, priority aging) as adds to it do', () =>
      withHarness(target, async (h) => {
        const sends: [string, string, { group: string; priority?: number }][] = [['t.a', 'a1', { group: 'a' }], ['t.a', 'a2', { group: 'a' }], ['t.b', 'b1', { group: 'b', priority: 5 }], ['t.a', 'a3', { group: 'a' }]];
        for (const policy of ['fair', 'priority'] as const) {
          await h.api.queue(`${policy}-published`).configure({ policy });
          await h.api.queue(`${policy}-added`).configure({ policy });
          await h.api.bind('t.#', `${policy}-published`);
        }
        for (const [topic, payload, options] of sends) {
          await h.api.publish(topic, payload, options);
          for (const policy of ['fair', 'priority']) await h.api.add(`${policy}-added`, payload, options);
        }
        const order = async (queue: string) => (await h.spool.claim(queue, 4)).map((j) => j.payload);
        for (const policy of ['fair', 'priority']) assert.deepEqual(await order(`${policy}-published`), await order(`${policy}-added`), policy);
      }));

    it('a publish that matches no binding is counted; with an unrouted queue set, it goes there', () =>
      withHarness(target, async (h) => {
        await h.api.bind('orders.#', 'orders');
        const lost = await h.api.publish('invoices.sent', { i: 1 });
        assert.deepEqual([lost.unrouted, lost.jobs], [true, []]);
        assert.deepEqual(await h.api.bindings(), { bindings: [{ pattern: 'orders.#', queue: 'orders', createdAt: h.clock.now() }], unroutedQueue: null, unrouted: 1 });
        await h.api.setUnroutedQueue('lost-and-found');
        const kept = await h.api.publish('invoices.sent', { i: 2 });
        assert.equal(kept.unrouted, true);
        assert.deepEqual(kept.jobs.map((j) => j.queue), ['lost-and-found']);
        assert.deepEqual(await payloads(h, 'lost-and-found'), [{ i: 2 }]);
        await h.api.publish('orders.new', { o: 1 }); // routed: not counted, not in the unrouted queue
        const routing = await h.api.bindings();
        assert.deepEqual([routing.unroutedQueue, routing.unrouted], ['lost-and-found', 2]);
        assert.deepEqual(await payloads(h, 'lost-and-found'), [{ i: 2 }]);
        await h.api.setUnroutedQueue(null);
        assert.deepEqual((await h.api.publish('invoices.sent', {})).jobs, []);
        assert.equal((await h.api.bindings()).unrouted, 3);
      }));

    it('bind is idempotent, unbind stops routing at once and says whether there was a binding', () =>
      withHarness(target, async (h) => {
        const first = await h.api.bind('a.*', 'q');
        const again = await h.api.bind('a.*', 'q');
        assert.deepEqual(again, first, 'the binding already there is returned as it was');
        assert.equal((await h.api.bindings()).bindings.length, 1);
        assert.equal((await h.api.publish('a.b', 1)).jobs.length, 1);
        assert.deepEqual(await h.api.unbind('a.*', 'q'), { removed: true });
        assert.deepEqual(await h.api.unbind('a.*', 'q'), { removed: false });
        const after = await h.api.publish('a.b', 2);
        assert.deepEqual([after.unrouted, after.jobs.length], [true, 0]);
        assert.deepEqual(await payloads(h, 'q'), [1]);
      }));

    it('a binding made behind this process (another process on the store) routes its next publish', () =>
      withHarness(target, async (h) => {
        await h.api.bind('t.#', 'one');
        await h.api.publish('t.x', 1); // this process now holds the routing, compiled
        // Another process binds: straight into the store, the engine's compiled routing is not told.
        assert.equal(await h.store.bindingPut({ pattern: 't.x', queue: 'two', now: h.clock.now(), max: 100 }), true);
        const out = await h.api.publish('t.x', 2);
        assert.deepEqual(out.jobs.map((j) => j.queue), ['one', 'two'], 'the publish was told its routing was stale and routed again');
        assert.equal(await h.store.bindingDelete({ pattern: 't.#', queue: 'one' }), true);
        assert.deepEqual((await h.api.publish('t.x', 3)).jobs.map((j) => j.queue), ['two']);
        assert.deepEqual(await payloads(h, 'one'), [1, 2]);
      }));

    it("a publish to a full bounded queue (overflow 'reject') writes no copy anywhere", () =>
      withHarness(target, async (h) => {
        await h.api.queue('small').configure({ maxLength: 1 });
        await h.api.bind('ev.#', 'big');
        await h.api.bind('ev.#', 'small');
        await h.api.publish('ev.one', 1);
        const outcome = h.api.publish('ev.two', 2).then(() => 'stored', (err: unknown) => err);
        await h.settled();
        await h.clock.advance(LIMITS.queueFullWaitMs.default); // the whole wait, no room made
        await h.settled();
        const err = await outcome;
        assert.ok(err instanceof QueueFullError, `expected QueueFullError, got ${String(err)}`);
        assert.equal(err.queue, 'small');
        assert.deepEqual(await payloads(h, 'big'), [1], 'the copy for the queue with room was not kept either');
        assert.deepEqual(await payloads(h, 'small'), [1]);
        await h.api.queue('small').configure({ maxLength: 2, overflow: 'drop-oldest' });
        await h.api.publish('ev.three', 3);
        await h.api.publish('ev.four', 4);
        assert.deepEqual(await payloads(h, 'big'), [1, 3, 4]);
        assert.deepEqual((await h.api.list('small', { state: 'ready' })).map((j) => j.payload), [3, 4]);
      }));

    it('the publishes of one tick are written together, yet each on its own: one refused fails alone', () =>
      withHarness(target, async (h) => {
        await h.api.queue('tiny').configure({ maxLength: 1 });
        await h.api.bind('a.#', 'wide');
        await h.api.bind('b.#', 'wide');
        await h.api.bind('b.#', 'tiny');
        await h.api.publish('b.first', 0); // tiny is full now
        // Started in one tick: the engine (and the remote client) send them in one call.
        const outcomes = [h.api.publish('a.one', 1), h.api.publish('b.two', 2), h.api.publish('a.three', 3), h.api.publish('nothing', 4)]
          .map((p) => p.then((out) => out.jobs.map((j) => j.queue), (err: unknown) => err));
        await h.settled();
        await h.clock.advance(LIMITS.queueFullWaitMs.default);
        await h.settled();
        const [one, two, three, nothing] = await Promise.all(outcomes);
        assert.deepEqual([one, three, nothing], [['wide'], ['wide'], []]);
        assert.ok(two instanceof QueueFullError, `expected QueueFullError, got ${String(two)}`);
        assert.deepEqual(await payloads(h, 'wide'), [0, 1, 3], 'the refused publish left no copy in wide');
        assert.equal((await h.api.bindings()).unrouted, 1);
      }));

    it('refuses bad topics, patterns and options, naming what is wrong; at most bindingsMax bindings', () =>
      withHarness(target, async (h) => {
        const refused = async (p: Promise<unknown>, field: string, text: RegExp) => {
          const err = await p.then(() => null, (e: unknown) => e);
          assert.ok(err instanceof InvalidArgumentError, `INVALID_ARGUMENT, got ${String(err)}`);
          assert.equal(err.field, field);
          assert.match(err.message, text);
        };
        await refused(h.api.publish('orders..x', 1), 'topic', /not valid/);
        await refused(h.api.publish('orders.*', 1), 'topic', /belong in a binding's pattern/);
        await refused(h.api.publish('orders', 1, { priorty: 1 } as never), 'priorty', /did you mean "priority"/);
        await refused(h.api.publish('orders', 1, { idempotencyKey: 'k' } as never), 'idempotencyKey', /takes no idempotencyKey/);
        await refused(h.api.bind('orders.#x', 'q'), 'pattern', /'\*' \(exactly one word\)/);
        await refused(h.api.bind('orders.#', 'bad queue'), 'queue', /not valid/);
        await h.api.bind('a', 'q');
        await h.api.bind('b', 'q');
        await h.api.bind('b', 'q'); // already there: no new binding, not refused
        await refused(h.api.bind('c', 'q'), 'pattern', /already holds 2 bindings \(bindingsMax\)/);
        assert.deepEqual((await h.api.bindings()).bindings.map((b) => b.pattern), ['a', 'b']);
      }, { bindingsMax: 2 }));
  });
}
