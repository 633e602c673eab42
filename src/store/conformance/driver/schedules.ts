import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScheduleDefinition } from '../../../core/schedule.ts';
import type { ScheduleFiring } from '../../schedule-store.ts';
import { jobId, newRow, T, withData, withStore, type DriverContext } from './harness.ts';

const def = (name: string, over: Partial<ScheduleDefinition> = {}): ScheduleDefinition => ({
  name, queue: 'q', cron: null, timezone: null, everyMs: 1000, payload: '{"n":1}', job: '{}', catchUp: 'skip', paused: false, ...over,
});
/** The next slot after now or the latest slot fired, as the engine gives it (slots every second). */
const nextAfter = (now: number) => (last: number | null) => Math.floor(Math.max(now, last ?? -Infinity) / 1000) * 1000 + 1000;

/** A firing of `name` read at (nextAt, updatedAt) that adds job `n` for slot `slot`. */
const firing = (name: string, read: { nextAt: number; updatedAt: number }, slot: number, n: number): ScheduleFiring => ({
  name, expectNextAt: read.nextAt, expectUpdatedAt: read.updatedAt, nextAt: slot + 1000, lastSlot: slot, missed: 0,
  rows: [newRow(n, { runAt: slot, createdAt: slot })],
});

/** Cron and repeat schedules (ScheduleStore): the rows, and the compare-and-set that makes one job per slot. */
export function schedulesArea(ctx: DriverContext): void {
  describe('schedules', () => {
    it('saves, replaces (keeping counts and the latest slot), lists, deletes; refuses a new one past max', { skip: ctx.skip('schedules') }, () =>
      withStore(ctx, async (store) => {
        assert.equal(await store.schedulePut(def('a'), nextAfter(T), T, 2), 'created');
        assert.equal(await store.schedulePut(def('b', { cron: '* * * * * *', everyMs: null, timezone: 'Europe/Berlin', paused: true }), nextAfter(T), T, 2), 'created');
        assert.equal(await store.schedulePut(def('c'), nextAfter(T), T, 2), 'full');
        const [a, b] = await store.schedules();
        assert.deepEqual(a, {
          name: 'a', queue: 'q', cron: null, timezone: null, everyMs: 1000, payload: { n: 1 }, job: {}, catchUp: 'skip', paused: false,
          nextAt: T + 1000, lastSlot: null, fired: 0, missed: 0, createdAt: T, updatedAt: T,
        });
        assert.deepEqual([b!.cron, b!.timezone, b!.everyMs, b!.paused], ['* * * * * *', 'Europe/Berlin', null, true]);
        assert.ok(await store.scheduleFire(firing('a', a as { nextAt: number; updatedAt: number }, T + 1000, 1)));
        assert.equal(await store.schedulePut(def('a', { everyMs: 5000, catchUp: 'run-once' }), nextAfter(T), T + 500, 2), 'replaced');
        const [replaced] = await store.schedules('a');
        assert.deepEqual([replaced!.everyMs, replaced!.catchUp, replaced!.fired, replaced!.lastSlot, replaced!.nextAt, replaced!.createdAt], [5000, 'run-once', 1, T + 1000, T + 2000, T]);
        assert.ok(replaced!.updatedAt > T, 'a replacement moves updatedAt');
        assert.equal(await store.scheduleDelete('a'), true);
        assert.equal(await store.scheduleDelete('a'), false);
        assert.deepEqual((await store.schedules()).map((s) => s.name), ['b']);
      }));

    it('a firing applies once: the second with the same reading adds nothing; one read before a replace or a pause adds nothing', { skip: ctx.skip('schedules') }, () =>
      withStore(ctx, async (store) => {
        await store.schedulePut(def('a'), nextAfter(T), T, 10);
        const [read] = await store.schedules('a');
        const r = read as { nextAt: number; updatedAt: number };
        assert.deepEqual(await store.schedulesDue(T + 999, 10), []);
        assert.deepEqual((await store.schedulesDue(T + 1000, 10)).map((s) => s.name), ['a']);
        assert.equal(await store.schedulesNextAt(), T + 1000);
        assert.equal(await store.scheduleFire(firing('a', r, T + 1000, 1)), true);
        assert.equal(await store.scheduleFire(firing('a', r, T + 1000, 2)), false);
        assert.deepEqual((await store.jobsGet([jobId(1), jobId(2)])).map((j) => j?.runAt ?? null), [T + 1000, null]);
        const [after] = await store.schedules('a');
        assert.deepEqual([after!.nextAt, after!.lastSlot, after!.fired], [T + 2000, T + 1000, 1]);
        assert.equal((await store.queueGet('q'))?.name, 'q', 'the firing created the queue');

        await store.schedulePut(def('a', { payload: '"new"' }), nextAfter(T + 1500), T + 1500, 10);
        assert.equal(await store.scheduleFire(firing('a', after as { nextAt: number; updatedAt: number }, T + 2000, 3)), false, 'read before the replace');
        const [replaced] = await store.schedules('a');
        assert.equal(await store.scheduleSetPaused('a', true, nextAfter(T + 1600), T + 1600), true);
        assert.equal(await store.scheduleFire(firing('a', replaced as { nextAt: number; updatedAt: number }, T + 2000, 4)), false, 'read before the pause');
        assert.deepEqual(await store.schedulesDue(T + 10_000, 10), [], 'a paused schedule is never due');
        assert.equal(await store.schedulesNextAt(), null);
        assert.equal(await store.scheduleSetPaused('a', false, nextAfter(T + 5500), T + 5500), true);
        const [resumed] = await store.schedules('a');
        assert.deepEqual([resumed!.paused, resumed!.nextAt], [false, T + 6000]);
        assert.equal(await store.scheduleSetPaused('a', false, nextAfter(T + 9500), T + 9500), true);
        assert.equal((await store.schedules('a'))[0]!.nextAt, T + 6000, 'resuming a running schedule keeps its next slot (due now or not)');
        assert.equal(await store.scheduleSetPaused('nope', true, nextAfter(T), T), false);
        assert.deepEqual(await store.jobsGet([jobId(3), jobId(4)]), [null, null]);
      }));

    it('two stores on the same data firing the same slot at once: one applies', { skip: ctx.skip('schedules', 'shared') }, () =>
      withData(ctx, async (d) => {
        const [one, two] = [await d.open(), await d.open()];
        await one.schedulePut(def('a'), nextAfter(T), T, 10);
        for (let i = 0; i < 10; i++) {
          const slot = T + (i + 1) * 1000;
          const [read] = await one.schedules('a');
          const r = read as { nextAt: number; updatedAt: number };
          const applied = await Promise.all([one.scheduleFire(firing('a', r, slot, 2 * i + 1)), two.scheduleFire(firing('a', r, slot, 2 * i + 2))]);
          assert.equal(applied.filter(Boolean).length, 1, `slot ${i}: ${applied.join(', ')}`);
        }
        assert.equal((await one.jobsList({ queue: 'q', limit: 100 })).length, 10);
      }));
  });
}
