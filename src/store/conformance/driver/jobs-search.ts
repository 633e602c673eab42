import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobIdBounds } from '../../../core/ids.ts';
import type { PayloadMatch } from '../../store.ts';
import { jobId, leaseOf, newRow, T, withStore, type DriverContext } from './harness.ts';

/** A job id of millisecond `ms`; `n` orders ids within it. */
const idAt = (ms: number, n: number): string => jobIdBounds(ms).first.replace(/-7000-8000-000000000000$/, `-7${n.toString(16).padStart(3, '0')}-8000-000000000000`);

/** jobsList's id range (a creation time range) and jobsSearch: a payload field, bounded. */
export function searchArea(ctx: DriverContext): void {
  const skip = ctx.skip('jobs');
  describe('time range and payload search', () => {
    it('a time range is exact at its millisecond edges, in every state and with a name', { skip }, () =>
      withStore(ctx, async (store) => {
        const { first, last } = jobIdBounds(T);
        // The smallest and largest ids T can hold, and jobs of the milliseconds around it.
        const ids = [idAt(T - 1, 0xfff), first, idAt(T, 5), last, idAt(T + 1, 0), idAt(T + 2, 0)];
        await store.jobsInsertMany(ids.map((id, i) => ({ ...newRow(0, { id, name: i % 2 ? 'odd' : 'even' }) })));
        const range = (from: number, to: number) => ({ after: jobIdBounds(from).below, to: jobIdBounds(to).last });
        const list = async (p: object) => (await store.jobsList({ queue: 'q', limit: 100, ...p })).map((j) => j.id);
        assert.deepEqual(await list(range(T, T)), [first, idAt(T, 5), last]);
        assert.deepEqual(await list(range(T, T + 1)), [first, idAt(T, 5), last, idAt(T + 1, 0)]);
        assert.deepEqual(await list({ ...range(T, T + 1), state: 'ready' }), [first, idAt(T, 5), last, idAt(T + 1, 0)]);
        assert.deepEqual(await list({ ...range(T, T + 1), name: 'odd' }), [first, last]);
        assert.deepEqual(await list({ ...range(T, T + 1), state: 'ready', name: 'even' }), [idAt(T, 5), idAt(T + 1, 0)]);
        assert.deepEqual(await list({ to: jobIdBounds(T - 1).last }), [idAt(T - 1, 0xfff)]);
        assert.deepEqual(await list({ ...range(T, T), after: idAt(T, 5) }), [last], 'a cursor inside the range');
        assert.deepEqual(await list({ ...range(T, T), state: 'dead' }), []);
        const search = await store.jobsSearch({ queue: 'q', ...range(T + 1, T + 2), limit: 10, scanMax: 100, payload: { path: ['n'], equals: 0 } });
        assert.deepEqual(search, { jobs: await store.jobsGet([idAt(T + 1, 0), idAt(T + 2, 0)]), next: null });
      }));

    it('matches a payload field by kind: numbers as numbers, strings, booleans, null, nested; a missing field matches nothing', { skip }, () =>
      withStore(ctx, async (store) => {
        const payloads: unknown[] = [
          { user: { id: 12345 } }, { user: { id: '12345' } }, { user: { id: 12345.0, tag: 'x' } }, { user: { id: true } }, { user: { id: false } },
          { user: { id: null } }, { user: {} }, { user: { id: { deep: 1 } } }, { a: [5] }, { 'k-1': { x_2: { y: { z: 'deep' } } } }, 'plain', 7,
        ];
        await store.jobsInsertMany(payloads.map((p, i) => newRow(i + 1, { payload: JSON.stringify(p) })));
        const found = async (path: string, equals: PayloadMatch['equals']) =>
          (await store.jobsSearch({ queue: 'q', limit: 100, scanMax: 100, payload: { path: path.split('.'), equals } })).jobs.map((j) => j.id);
        assert.deepEqual(await found('user.id', 12345), [jobId(1), jobId(3)]);
        assert.deepEqual(await found('user.id', '12345'), [jobId(2)]);
        assert.deepEqual(await found('user.id', true), [jobId(4)]);
        assert.deepEqual(await found('user.id', false), [jobId(5)]);
        assert.deepEqual(await found('user.id', null), [jobId(6)], 'a missing field is not null');
        assert.deepEqual(await found('user.id', 1), []);
        assert.deepEqual(await found('user.id', '{"deep":1}'), [], 'an object is not the string of its JSON');
        assert.deepEqual(await found('user.id.deep', 1), [jobId(8)]);
        assert.deepEqual(await found('k-1.x_2.y.z', 'deep'), [jobId(10)]);
        assert.deepEqual(await found('a.0', 5), [], 'keys are object keys, never array indexes');
        assert.deepEqual(await found('nowhere', null), []);
        const named = await store.jobsSearch({ queue: 'q', name: 'other', limit: 100, scanMax: 100, payload: { path: ['user', 'id'], equals: 12345 } });
        assert.deepEqual(named, { jobs: [], next: null });
      }));

    it('examines at most scanMax jobs a call, live and finished alike, and says where it stopped', { skip }, () =>
      withStore(ctx, async (store) => {
        // 250 jobs; only the 200th matches. The first is finished, so both tables are read.
        await store.jobsInsertMany(Array.from({ length: 250 }, (_, i) => newRow(i + 1, { payload: JSON.stringify({ hit: i + 1 === 200 }) })));
        const [done] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 1000, now: T });
        await store.jobsComplete([{ lease: leaseOf(done!), result: null }], T + 1);
        const payload = { path: ['hit'], equals: true };
        for (const state of [undefined, 'ready' as const]) {
          const first = await store.jobsSearch({ queue: 'q', state, limit: 10, scanMax: 100, payload });
          assert.deepEqual(first, { jobs: [], next: jobId(state ? 101 : 100) }, 'nothing matched in the bound: the page is empty, the scan goes on');
          const second = await store.jobsSearch({ queue: 'q', state, after: first.next!, limit: 10, scanMax: 100, payload });
          assert.deepEqual(second.jobs.map((j) => j.id), [jobId(200)]);
          assert.equal(second.next, jobId(state ? 201 : 200));
          const third = await store.jobsSearch({ queue: 'q', state, after: second.next!, limit: 10, scanMax: 100, payload });
          assert.deepEqual(third, { jobs: [], next: null }, 'the end of the range');
          // A full page stops at its last match, before the bound.
          const full = await store.jobsSearch({ queue: 'q', state, limit: 1, scanMax: 1000, payload });
          assert.deepEqual([full.jobs.map((j) => j.id), full.next], [[jobId(200)], jobId(200)]);
        }
      }));
  });
}
