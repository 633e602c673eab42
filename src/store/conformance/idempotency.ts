import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import { withHarness, type HarnessTarget } from './harness.ts';

/** Asserts that `p` fails with an InvalidArgumentError naming `idempotencyKey`. */
async function refusedKey(p: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InvalidArgumentError, `${what}: InvalidArgumentError, got ${String(e)}`);
    assert.equal(e.field, 'idempotencyKey', `${what}: ${e.message}`);
    return true;
  });
}

/** Idempotent adds (`idempotencyKey`): one job per (queue, key) within the window, however often and however concurrently it is added. */
export function idempotencySuite(target: HarnessTarget): void {
  describe('idempotent adds', () => {
    it('an add with a key the queue holds returns the job the key created, as it is now, and stores nothing', () =>
      withHarness(target, async ({ api, spool }) => {
        const q = api.queue('q');
        const first = await q.add({ n: 1 }, { idempotencyKey: 'order-42' });
        assert.equal(first.state, 'ready');
        const again = await q.add({ n: 1 }, { idempotencyKey: 'order-42' });
        assert.equal(again.id, first.id);
        assert.equal(again.state, 'ready');
        // Its current state: claimed since, the replay says so.
        const [claimed] = await spool.claim('q', 1);
        assert.equal(claimed!.id, first.id);
        const later = await q.add({ n: 1 }, { idempotencyKey: 'order-42' });
        assert.equal(later.id, first.id);
        assert.equal(later.state, 'active');
        assert.equal(later.attempt, 1);
        assert.deepEqual((await q.list()).map((j) => j.id), [first.id]);
        // Without a key, or with another, adds are new jobs.
        const other = await q.add({ n: 1 }, { idempotencyKey: 'order-43' });
        assert.notEqual(other.id, first.id);
        assert.equal((await q.list()).length, 2);
      }));

    it('the key is per queue: the same key in another queue adds another job', () =>
      withHarness(target, async ({ api }) => {
        const a = await api.queue('a').add(1, { idempotencyKey: 'k' });
        const b = await api.queue('b').add(1, { idempotencyKey: 'k' });
        assert.notEqual(a.id, b.id);
        assert.equal(b.queue, 'b');
        assert.equal((await api.queue('a').list()).length, 1);
        assert.equal((await api.queue('b').list()).length, 1);
      }));

    it('50 concurrent adds with one key store exactly one job, and all of them return it', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const jobs = await Promise.all(Array.from({ length: 50 }, (_, i) => q.add({ i }, { idempotencyKey: 'once' })));
        const ids = new Set(jobs.map((j) => j.id));
        assert.equal(ids.size, 1);
        const stored = await q.list();
        assert.equal(stored.length, 1);
        assert.equal(stored[0]!.id, jobs[0]!.id);
        assert.equal((await api.stats('q'))[0]!.counts.ready, 1);
      }));

    it('addMany: items whose keys exist return those jobs, the others are stored; a key twice in one batch is one job', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const old = await q.add('old', { idempotencyKey: 'k1' });
        const jobs = await q.addMany([
          { payload: 'a', idempotencyKey: 'k1' },
          { payload: 'b', idempotencyKey: 'k2' },
          { payload: 'c', idempotencyKey: 'k2' },
          { payload: 'd' },
          { payload: 'e', idempotencyKey: 'k3' },
        ]);
        assert.equal(jobs.length, 5);
        assert.equal(jobs[0]!.id, old.id);
        assert.equal(jobs[2]!.id, jobs[1]!.id);
        assert.equal(new Set(jobs.map((j) => j.id)).size, 4);
        const stored = await q.list();
        assert.deepEqual(stored.map((j) => j.id).sort(), [old.id, jobs[1]!.id, jobs[3]!.id, jobs[4]!.id].sort());
        assert.equal((await api.get(jobs[1]!.id)).payload, 'b');
        // The whole batch again: nothing new.
        const again = await q.addMany([{ payload: 'b', idempotencyKey: 'k2' }, { payload: 'e', idempotencyKey: 'k3' }]);
        assert.deepEqual(again.map((j) => j.id), [jobs[1]!.id, jobs[4]!.id]);
        assert.equal((await q.list()).length, 4);
      }));

    it('past idempotencyWindowMs the key is forgotten: the same key adds a new job', () =>
      withHarness(target, async ({ api, spool, clock, settled }) => {
        const q = api.queue('q');
        const first = await q.add(1, { idempotencyKey: 'k' });
        await clock.advance(1000); // the window's end: still held
        await settled();
        assert.equal((await q.add(1, { idempotencyKey: 'k' })).id, first.id);
        await clock.advance(1);
        await spool.runMaintenance();
        await settled();
        const second = await q.add(1, { idempotencyKey: 'k' });
        assert.notEqual(second.id, first.id);
        assert.equal((await q.add(1, { idempotencyKey: 'k' })).id, second.id, 'the new job holds the key now');
        assert.equal((await q.list()).length, 2);
        // The key of the new job, not yet past the window, survives a maintenance run.
        await spool.runMaintenance();
        assert.equal((await q.add(1, { idempotencyKey: 'k' })).id, second.id);
      }, { idempotencyWindowMs: 1000 }));

    it('the expiry deletes keys recorded before its cut-off, a bounded batch at a time, and keeps the later ones', () =>
      withHarness(target, async ({ api, store, clock }) => {
        // The stores may find expired keys in any order (SQLite: in the order they were recorded,
        // with no index on their time): what counts is how many go, and which keys still hold.
        const q = api.queue('q');
        const old = [await q.add(1, { idempotencyKey: 'a' }), await q.add(2, { idempotencyKey: 'b' }), await q.add(3, { idempotencyKey: 'c' })];
        await clock.advance(500);
        const kept = [await q.add(4, { idempotencyKey: 'd' }), await q.add(5, { idempotencyKey: 'e' })];
        const before = old[0]!.createdAt + 1;
        assert.equal(await store.idempotencyKeysDelete({ before, limit: 2 }), 2);
        assert.equal(await store.idempotencyKeysDelete({ before, limit: 2 }), 1);
        assert.equal(await store.idempotencyKeysDelete({ before, limit: 2 }), 0);
        assert.deepEqual((await q.addMany([{ payload: 0, idempotencyKey: 'd' }, { payload: 0, idempotencyKey: 'e' }])).map((j) => j.id), kept.map((j) => j.id));
        const again = await q.addMany(['a', 'b', 'c'].map((k) => ({ payload: 0, idempotencyKey: k })));
        again.forEach((j, i) => assert.notEqual(j.id, old[i]!.id, 'a deleted key adds a new job'));
        assert.equal((await q.list()).length, 8);
      }));

    it('deleting a queue forgets its keys: the queue made again adds a new job with an old key', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const first = await q.add(1, { idempotencyKey: 'k' });
        await q.delete();
        const again = await q.add(2, { idempotencyKey: 'k' });
        assert.notEqual(again.id, first.id);
        assert.equal((await api.get(again.id)).payload, 2);
      }));

    it('bad keys are refused, naming idempotencyKey, and store nothing', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        await refusedKey(q.add(1, { idempotencyKey: '' }), 'empty');
        await refusedKey(q.add(1, { idempotencyKey: 'k'.repeat(129) }), '129 characters');
        await refusedKey(q.add(1, { idempotencyKey: 'a\0b' }), 'U+0000');
        await refusedKey(q.add(1, { idempotencyKey: 'a\ud800' }), 'unpaired surrogate');
        await refusedKey(q.add(1, { idempotencyKey: 42 as never }), 'a number');
        await refusedKey(q.addMany([{ payload: 1, idempotencyKey: 'fine' }, { payload: 2, idempotencyKey: '' }]), 'an item of addMany');
        // The longest key, and any well-formed text, are fine.
        const long = await q.add(1, { idempotencyKey: 'k'.repeat(128) });
        assert.equal((await q.add(2, { idempotencyKey: 'k'.repeat(128) })).id, long.id);
        const odd = await q.add(1, { idempotencyKey: 'ü 𝄞 key/42' });
        assert.equal((await q.add(2, { idempotencyKey: 'ü 𝄞 key/42' })).id, odd.id);
      }));
  });
}
