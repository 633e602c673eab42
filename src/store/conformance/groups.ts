import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import { jobIdTime } from '../../core/ids.ts';
import type { Job } from '../../core/job.ts';
import { withHarness, type HarnessTarget } from './harness.ts';
import { lease } from './operator-support.ts';

const ids = (jobs: readonly Job[]): string[] => jobs.map((j) => j.id);

/** A job's `group` (tenant, customer): stored as given, returned everywhere, filtered by in lists and bulk actions. */
export function groupsSuite(target: HarnessTarget): void {
  describe('job groups', () => {
    it('add and addMany store the group; get, list and the add itself return it (null without one)', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const a = await q.add({ n: 1 }, { group: 'acme' });
        const plain = await q.add({ n: 2 });
        assert.equal(a.group, 'acme');
        assert.equal(plain.group, null);
        assert.equal((await api.get(a.id)).group, 'acme');
        assert.equal((await api.get(plain.id)).group, null);
        const many = await q.addMany([{ payload: 3, group: 'globex' }, { payload: 4 }, { payload: 5, group: 'acme', name: 'x' }]);
        assert.deepEqual(many.map((j) => j.group), ['globex', null, 'acme']);
        assert.deepEqual((await q.list()).map((j) => j.group), ['acme', null, 'globex', null, 'acme']);
        // Any well-formed text of 1–128 characters, as a job name.
        const odd = await q.add(6, { group: 'ü 𝄞 tenant/42' });
        const long = await q.add(7, { group: 'g'.repeat(128) });
        assert.equal((await api.get(odd.id)).group, 'ü 𝄞 tenant/42');
        assert.equal((await api.get(long.id)).group, 'g'.repeat(128));
      }));

    it('lists by group alone, with a state, a name, a creation time range and a payload field, paged by cursor', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        const q = api.queue('q');
        const acme: Job[] = [];
        for (let i = 0; i < 7; i++) {
          acme.push(await q.add({ i }, { group: 'acme', name: i % 2 === 0 ? 'even' : 'odd' }));
          await q.add({ i }, { group: 'globex' });
          await q.add({ i });
          await clock.advance(1000);
        }
        // Three of acme's jobs in other states: two dead, one active.
        const claimed = await spool.claim('q', 21);
        const byId = new Map(claimed.map((j) => [j.id, j]));
        await api.nack(lease(byId.get(acme[1]!.id)!), 'down', { unrecoverable: true });
        await api.nack(lease(byId.get(acme[4]!.id)!), 'down', { unrecoverable: true });
        for (const j of claimed) if (j.id !== acme[1]!.id && j.id !== acme[4]!.id && j.id !== acme[2]!.id) await api.release(lease(j));

        assert.deepEqual(ids(await q.list({ group: 'acme' })), ids(acme));
        assert.deepEqual(ids(await q.list({ group: 'acme', state: 'dead' })), ids([acme[1]!, acme[4]!]));
        assert.deepEqual(ids(await q.list({ group: 'acme', state: 'active' })), ids([acme[2]!]));
        assert.deepEqual(ids(await q.list({ group: 'acme', state: 'ready' })), ids([acme[0]!, acme[3]!, acme[5]!, acme[6]!]));
        assert.deepEqual(ids(await q.list({ group: 'acme', name: 'odd' })), ids([acme[1]!, acme[3]!, acme[5]!]));
        assert.deepEqual(ids(await q.list({ group: 'acme', state: 'dead', name: 'odd' })), ids([acme[1]!]));
        assert.deepEqual(await q.list({ group: 'initech' }), []);
        assert.deepEqual(await q.list({ group: 'acme', state: 'cancelled' }), []);
        // A creation time range, from job 2 to job 4 of acme. The range is by the time in the ids, which
        // may run ahead of this test's clock (ids made earlier in the process hold later times), so the
        // bounds, and what falls within them, come from the ids themselves.
        const [from, to] = [jobIdTime(acme[2]!.id), jobIdTime(acme[4]!.id)];
        const within = (j: Job) => jobIdTime(j.id) >= from && jobIdTime(j.id) <= to;
        const ranged = await q.list({ group: 'acme', createdAfter: from, createdBefore: to });
        assert.deepEqual(ids(ranged), ids(acme.filter(within)));
        assert.ok(ids(acme.slice(2, 5)).every((id) => ids(ranged).includes(id)));
        assert.deepEqual(ids(await q.list({ group: 'acme', state: 'dead', createdAfter: from })), ids([acme[1]!, acme[4]!].filter((j) => jobIdTime(j.id) >= from)));
        // A payload field with the group.
        assert.deepEqual(ids((await q.listPage({ group: 'acme', payload: { path: 'i', equals: 3 } })).jobs), ids([acme[3]!]));

        // Paged by cursor, alone and with a state.
        const pages: string[][] = [];
        let page = await q.listPage({ group: 'acme', limit: 3 });
        pages.push(ids(page.jobs));
        while (page.next !== null) {
          page = await q.listPage({ group: 'acme', limit: 3, after: page.next });
          pages.push(ids(page.jobs));
        }
        assert.deepEqual(pages, [ids(acme.slice(0, 3)), ids(acme.slice(3, 6)), ids(acme.slice(6))]);
        const first = await q.listPage({ group: 'acme', state: 'ready', limit: 2 });
        assert.deepEqual(ids(first.jobs), ids([acme[0]!, acme[3]!]));
        assert.equal(first.next, acme[3]!.id);
        assert.deepEqual(ids(await q.list({ group: 'acme', state: 'ready', after: first.next! })), ids([acme[5]!, acme[6]!]));
        // Another queue's jobs of the same group are not this queue's.
        await api.queue('other').add(1, { group: 'acme' });
        assert.equal((await q.list({ group: 'acme' })).length, 7);
      }));

    it('bulk retry and cancel by group touch the group alone', () =>
      withHarness(target, async ({ api, spool }) => {
        const q = api.queue('q');
        const acme = await q.addMany([1, 2, 3, 4].map((n) => ({ payload: n, group: 'acme' })));
        const globex = await q.addMany([5, 6].map((n) => ({ payload: n, group: 'globex' })));
        for (const j of await spool.claim('q', 6)) await api.nack(lease(j), 'down', { unrecoverable: true });
        assert.deepEqual(await api.bulk('retry', { queue: 'q', group: 'acme', state: 'dead' }, { limit: 3 }),
          { matched: 3, changed: 3, skipped: 0, next: acme[2]!.id });
        assert.deepEqual(await api.bulk('retry', { queue: 'q', group: 'acme', state: 'dead' }, { after: acme[2]!.id }),
          { matched: 1, changed: 1, skipped: 0, next: null });
        for (const j of acme) assert.deepEqual([(await api.get(j.id)).state, (await api.get(j.id)).group], ['ready', 'acme']);
        for (const j of globex) assert.equal((await api.get(j.id)).state, 'dead');

        assert.deepEqual(await q.bulk('cancel', { group: 'acme' }), { matched: 4, changed: 4, skipped: 0, next: null });
        assert.deepEqual((await q.list({ group: 'acme', state: 'cancelled' })).map((j) => [j.state, j.group]), acme.map(() => ['cancelled', 'acme']));
        assert.deepEqual(await q.bulk('delete', { group: 'globex' }), { matched: 2, changed: 2, skipped: 0, next: null });
        assert.deepEqual(ids(await q.list()), ids(acme));
      }));

    it('the group survives a job finishing (completed, dead, cancelled) and a retry back', () =>
      withHarness(target, async ({ api, spool }) => {
        const q = api.queue('q');
        const [done, dead, cancelled] = await q.addMany(['done', 'dead', 'cancelled'].map((g) => ({ payload: g, group: g })));
        const claimed = await spool.claim('q', 3);
        await api.ack(lease(claimed.find((j) => j.id === done!.id)!), 'ok');
        await api.nack(lease(claimed.find((j) => j.id === dead!.id)!), 'down', { unrecoverable: true });
        await api.cancel(cancelled!.id);
        for (const [job, state] of [[done!, 'completed'], [dead!, 'dead'], [cancelled!, 'cancelled']] as const) {
          const got = await api.get(job.id);
          assert.deepEqual([got.state, got.group], [state, job.group]);
          assert.deepEqual(ids(await q.list({ group: job.group!, state })), [job.id]);
          assert.deepEqual(ids(await q.list({ group: job.group! })), [job.id]);
        }
        await api.retry(dead!.id);
        assert.deepEqual([(await api.get(dead!.id)).state, (await api.get(dead!.id)).group], ['ready', 'dead']);
        assert.deepEqual(ids(await q.list({ group: 'dead', state: 'ready' })), [dead!.id]);
      }));

    it('refuses a group that is empty, over 128 characters, holds U+0000 or is not a string, naming `group`', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        await q.add(0); // the queue exists: a list of it answers
        const refusedGroup = (e: unknown) => {
          assert.ok(e instanceof InvalidArgumentError, `InvalidArgumentError: ${String(e)}`);
          assert.equal(e.field, 'group', e.message);
          assert.match(e.message, /group/);
          return true;
        };
        for (const bad of ['', 'g'.repeat(129), 'a\u0000b', 42] as unknown[]) {
          await assert.rejects(q.add(1, { group: bad as string }), refusedGroup, `add ${JSON.stringify(bad)}`);
          await assert.rejects(q.addMany([{ payload: 1 }, { payload: 2, group: bad as string }]), refusedGroup, `addMany ${JSON.stringify(bad)}`);
          await assert.rejects(q.list({ group: bad as string }), refusedGroup, `list ${JSON.stringify(bad)}`);
          await assert.rejects(api.bulk('cancel', { queue: 'q', group: bad as string }), refusedGroup, `bulk ${JSON.stringify(bad)}`);
        }
        assert.equal((await q.list()).length, 1, 'nothing was added');
      }));
  });
}
