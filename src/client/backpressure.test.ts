/**
 * Backpressure of the remote client: it never has more requests on the wire than the
 * broker's requestsInflightMax, so a burst waits for replies instead of being refused.
 * A relay in front of the broker counts TOO_MANY refusals on the wire.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxied, waitFor } from '../../test/support/remote.ts';

describe('client backpressure (real broker, real sockets)', () => {
  it('a burst of 1,000 adds waits for replies: the broker never has to refuse one with TOO_MANY', async (t) => {
    // Small batches (addManyMax 10) make 100 publish frames; the broker works on at most 2 of them at once.
    const { spool, proxy, remote } = await proxied(t, { requestsInflightMax: 2, addManyMax: 10 });
    const q = remote.queue<number>('burst');
    const jobs = await Promise.all(Array.from({ length: 1000 }, (_, i) => q.add(i)));
    assert.equal(new Set(jobs.map((j) => j.id)).size, 1000);
    assert.deepEqual(jobs.map((j) => j.payload), Array.from({ length: 1000 }, (_, i) => i));
    assert.equal((await spool.stats('burst'))[0]!.counts.ready, 1000, 'each add stored once');
    // Lease operations and calls go through the same window.
    const ids = jobs.slice(0, 50).map((j) => j.id);
    const read = await Promise.all(ids.map((id) => remote.get(id)));
    assert.deepEqual(read.map((j) => j.id), ids);
    assert.equal(proxy.tooMany(), 0, 'TOO_MANY refusals: the client sent more requests than requestsInflightMax');
  });

  it('a burst of acks from a wide remote worker also stays within requestsInflightMax', async (t) => {
    const { spool, proxy, remote } = await proxied(t, { requestsInflightMax: 2, addManyMax: 5 });
    await spool.queue('acks').addMany(Array.from({ length: 300 }, (_, i) => ({ payload: i })));
    let completed = 0;
    const worker = remote.work('acks', async () => 'ok', { concurrency: 64 });
    worker.on('completed', () => completed++);
    await waitFor('300 completions', () => completed === 300, 60_000); // generous: a loaded machine is slow, never wrong
    assert.equal((await spool.stats('acks'))[0]!.counts.completed, 300);
    assert.equal(proxy.tooMany(), 0, 'TOO_MANY refusals: the client sent more requests than requestsInflightMax');
  });

  it('after a reconnect, the requests sent again and the subscriptions opened again share the same window', async (t) => {
    const { spool, proxy, remote } = await proxied(t, { requestsInflightMax: 2, addManyMax: 10 }, { reconnectBaseMs: 20, reconnectMaxMs: 20 });
    // Three subscriptions (on queues nobody adds to) are opened again at the reconnect, alongside the adds.
    for (const q of ['idle-1', 'idle-2', 'idle-3']) remote.work(q, async () => {});
    await remote.queue('again').add('before');
    // The network stays down until the adds are waiting: the client cannot reconnect (and be healthy again) before the test sees it down.
    proxy.drop({ hold: true });
    await waitFor('health to go down', () => !remote.health().healthy, 60_000); // generous: a loaded machine is slow, never wrong
    const adds = Promise.all(Array.from({ length: 300 }, (_, i) => remote.queue('again').add(i)));
    proxy.resume();
    await waitFor('health to come back', () => remote.health().healthy, 60_000); // generous: a loaded machine is slow, never wrong
    assert.equal((await adds).length, 300);
    assert.equal((await spool.stats('again'))[0]!.counts.ready, 301);
    assert.equal(proxy.tooMany(), 0, 'TOO_MANY refusals: after the reconnect the client sent more requests than requestsInflightMax');
  });

});
