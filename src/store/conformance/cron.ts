import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, ScheduleNotFoundError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { withHarness, type Api, type HarnessTarget } from './harness.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z'); // the harness clock's start: a multiple of every period below
const S = 1000;
/** Ticks, polls and heartbeats rare: a DST test moves the clock over an hour. */
const QUIET = { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000, heartbeatIntervalMs: 60_000 } as const;

async function jobsOf(api: Api, queue: string): Promise<Job[]> {
  const stats = await api.stats();
  if (!stats.some((s) => s.queue === queue)) return [];
  return api.list(queue, { limit: 1000 });
}

const runAts = async (api: Api, queue: string): Promise<string[]> =>
  (await jobsOf(api, queue)).map((j) => new Date(j.runAt).toISOString()).sort();

async function refused(p: Promise<unknown>, field: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    return true;
  });
}

export function cronSuite(target: HarnessTarget): void {
  describe('cron and repeat schedules', () => {
    it('a cron expression with seconds adds one job per slot, its runAt the slot, with the payload and job options', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        const s = await api.schedule('ticker', { queue: 'ticks', cron: '*/10 * * * * *', payload: { n: 1 }, job: { name: 'tick', priority: 5, maxAttempts: 2 } });
        assert.equal(s.nextAt, T0 + 10 * S);
        assert.deepEqual([s.fired, s.missed, s.lastSlot, s.catchUp, s.paused], [0, 0, null, 'skip', false]);
        await clock.advance(35 * S);
        await settled();
        const jobs = await jobsOf(api, 'ticks');
        assert.deepEqual(jobs.map((j) => j.runAt).sort(), [T0 + 10 * S, T0 + 20 * S, T0 + 30 * S]);
        for (const j of jobs) assert.deepEqual([j.name, j.priority, j.maxAttempts, j.payload, j.state], ['tick', 5, 2, { n: 1 }, 'ready']);
        const [after] = await api.schedules();
        assert.deepEqual([after!.fired, after!.missed, after!.lastSlot, after!.nextAt], [3, 0, T0 + 30 * S, T0 + 40 * S]);
      }));

    it('everyMs: a job at each multiple of it since the epoch', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        await clock.advance(1 * S);
        const s = await api.schedule('every15', { queue: 'every', everyMs: 15 * S });
        assert.equal(s.nextAt, T0 + 15 * S);
        await clock.advance(30 * S);
        await settled();
        assert.deepEqual((await jobsOf(api, 'every')).map((j) => j.runAt).sort(), [T0 + 15 * S, T0 + 30 * S]);
      }));

    it('a paused schedule adds no job; resumed, it goes on from its next slot after now', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        await api.schedule('p', { queue: 'paused-q', everyMs: 10 * S });
        const paused = await api.pauseSchedule('p');
        assert.equal(paused.paused, true);
        await clock.advance(35 * S);
        await settled();
        assert.deepEqual(await jobsOf(api, 'paused-q'), []);
        const resumed = await api.resumeSchedule('p');
        assert.deepEqual([resumed.paused, resumed.nextAt, resumed.missed], [false, T0 + 40 * S, 0]);
        await clock.advance(5 * S);
        await settled();
        assert.deepEqual((await jobsOf(api, 'paused-q')).map((j) => j.runAt), [T0 + 40 * S]);
        await assert.rejects(api.pauseSchedule('nope'), (err: Error) => err instanceof ScheduleNotFoundError && err.schedule === 'nope');
      }));

    it('a replacement keeps the counts and never fires a slot twice; a deleted schedule adds no more jobs and keeps those it added', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        await api.schedule('r', { queue: 'replaced', everyMs: 10 * S, payload: 'old' });
        await clock.advance(10 * S);
        await settled();
        const replaced = await api.schedule('r', { queue: 'replaced', everyMs: 5 * S, payload: 'new', catchUp: 'run-once' });
        assert.deepEqual([replaced.fired, replaced.lastSlot, replaced.nextAt, replaced.catchUp], [1, T0 + 10 * S, T0 + 15 * S, 'run-once']);
        await clock.advance(10 * S);
        await settled();
        const jobs = (await jobsOf(api, 'replaced')).sort((a, b) => a.runAt - b.runAt);
        assert.deepEqual(jobs.map((j) => [j.runAt, j.payload]), [[T0 + 10 * S, 'old'], [T0 + 15 * S, 'new'], [T0 + 20 * S, 'new']]);
        await api.unschedule('r');
        assert.deepEqual(await api.schedules(), []);
        await clock.advance(20 * S);
        await settled();
        assert.equal((await jobsOf(api, 'replaced')).length, 3);
        await assert.rejects(api.unschedule('r'), (err: Error) => err instanceof ScheduleNotFoundError);
      }));

    it('a schedule whose bounded queue is full holds back no other; its slot gets its job once there is room, within the grace', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        await api.configureQueue('full', { maxLength: 1 });
        await api.queue('full').add('filler');
        await api.schedule('blocked', { queue: 'full', everyMs: 10 * S });
        await api.schedule('free', { queue: 'free', everyMs: 10 * S });
        await clock.advance(10 * S);
        await settled();
        assert.deepEqual((await jobsOf(api, 'free')).map((j) => j.runAt), [T0 + 10 * S]);
        assert.deepEqual((await jobsOf(api, 'full')).map((j) => j.payload), ['filler']);
        assert.equal((await api.schedules()).find((s) => s.name === 'blocked')!.nextAt, T0 + 10 * S, 'still due');
        assert.equal(await api.purge('full'), 1);
        await clock.advance(2 * S); // the next look, within cronGraceMs of the slot
        await settled();
        assert.deepEqual((await jobsOf(api, 'full')).map((j) => j.runAt), [T0 + 10 * S]);
      }));

    it('refuses a bad expression, time zone or option, naming the field (and the nearest valid one), and schedules past schedulesMax', () =>
      withHarness(target, async ({ api }) => {
        await refused(api.schedule('x', { queue: 'q', cron: '61 * * * * *' }), 'cron', /cron "61 \* \* \* \* \*" is not valid/);
        await refused(api.schedule('x', { queue: 'q', cron: '* * *' }), 'cron', /not valid/);
        await refused(api.schedule('x', { queue: 'q', cron: '* * * * *', timezone: 'Mars/Olympus' }), 'timezone', /not a time zone/);
        await refused(api.schedule('x', { queue: 'q', cron: '* * * * *', everyMs: 1000 }), 'everyMs', /cron or everyMs, not both/);
        await refused(api.schedule('x', { queue: 'q' }), 'cron', /cron or everyMs/);
        await refused(api.schedule('x', { queue: 'q', everyMs: 10 }), 'everyMs', /at least 1000/);
        await refused(api.schedule('x', { queue: 'q', everyMs: 1000, job: { priorty: 1 } as never }), 'job.priorty', /did you mean "priority"/);
        await refused(api.schedule('x', { queue: 'q', everyMs: 1000, job: { delayMs: 1 } as never }), 'job.delayMs', /unknown option "delayMs"/);
        await refused(api.schedule('x', { queu: 'q', everyMs: 1000 } as never), 'queu', /did you mean "queue"/);
        await refused(api.schedule('x', { queue: 'q', everyMs: 1000, catchUp: 'all' as never }), 'catchUp', /'skip' or 'run-once'/);
        await refused(api.schedule('bad name', { queue: 'q', everyMs: 1000 }), 'name', /not valid/);
        assert.deepEqual(await api.schedules(), []);
        await api.schedule('a', { queue: 'q', everyMs: 60_000 });
        await api.schedule('b', { queue: 'q', everyMs: 60_000 });
        await refused(api.schedule('c', { queue: 'q', everyMs: 60_000 }), 'name', /schedulesMax/);
        await api.schedule('b', { queue: 'q', everyMs: 30_000 }); // a replacement is not a new schedule
      }, { schedulesMax: 2 }));

    it('DST spring forward in Europe/Berlin: a fixed time in the gap runs once, at the first time after it; an hourly slot is not doubled', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        await api.schedule('daily-0230', { queue: 'daily', cron: '0 30 2 * * *', timezone: 'Europe/Berlin' });
        await api.schedule('hourly-30', { queue: 'hourly', cron: '0 30 * * * *', timezone: 'Europe/Berlin' });
        await clock.advance(70 * 60_000); // 01:25 CET to 03:35 CEST: 02:00–03:00 local does not exist
        await settled();
        assert.deepEqual(await runAts(api, 'daily'), ['2026-03-29T01:00:00.000Z']); // 03:00 CEST
        assert.deepEqual(await runAts(api, 'hourly'), ['2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z']); // 01:30 CET, 03:30 CEST
        const daily = (await api.schedules()).find((s) => s.name === 'daily-0230')!;
        assert.equal(daily.nextAt, Date.parse('2026-03-30T00:30:00Z')); // 02:30 CEST
      }, QUIET, {}, Date.parse('2026-03-29T00:25:00Z')));

    it('DST fall back in Europe/Berlin: a fixed time that occurs twice runs once; an hourly slot runs in both hours', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        await api.schedule('daily-0230', { queue: 'daily', cron: '0 30 2 * * *', timezone: 'Europe/Berlin' });
        await api.schedule('hourly-30', { queue: 'hourly', cron: '0 30 * * * *', timezone: 'Europe/Berlin' });
        await clock.advance(70 * 60_000); // 02:25 CEST to 02:35 CET: 02:00–03:00 local happens twice
        await settled();
        assert.deepEqual(await runAts(api, 'daily'), ['2026-10-25T00:30:00.000Z']); // 02:30 CEST, not again at 02:30 CET
        assert.deepEqual(await runAts(api, 'hourly'), ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']); // 02:30 CEST and 02:30 CET
        const daily = (await api.schedules()).find((s) => s.name === 'daily-0230')!;
        assert.equal(daily.nextAt, Date.parse('2026-10-26T01:30:00Z')); // 02:30 CET
      }, QUIET, {}, Date.parse('2026-10-25T00:25:00Z')));
  });
}
