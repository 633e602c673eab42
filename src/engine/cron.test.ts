import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slotsOf } from '../core/schedule.ts';
import { planSlots } from './cron.ts';

const S = 1000;
const T = Date.parse('2026-01-01T00:00:00Z');
const every = (ms: number) => ({ everyMs: ms, cron: null, timezone: null });
const cron = (expr: string) => ({ everyMs: null, cron: expr, timezone: null });

test('slots within the grace each get a job; the next slot is the first after now', () => {
  const plan = planSlots(slotsOf(every(S)), { everyMs: S, catchUp: 'skip' }, T + S, T + 3 * S + 500, 5 * S);
  assert.deepEqual(plan, { slots: [T + S, T + 2 * S, T + 3 * S], missed: 0, nextAt: T + 4 * S });
});

test('slots older than the grace are missed: skip adds none, run-once one for the latest', () => {
  const from = T + 10 * S;
  const now = T + 70 * S;
  assert.deepEqual(planSlots(slotsOf(every(10 * S)), { everyMs: 10 * S, catchUp: 'skip' }, from, now, 2 * S),
    { slots: [T + 70 * S], missed: 6, nextAt: T + 80 * S });
  assert.deepEqual(planSlots(slotsOf(every(10 * S)), { everyMs: 10 * S, catchUp: 'run-once' }, from, now, 2 * S),
    { slots: [T + 60 * S, T + 70 * S], missed: 5, nextAt: T + 80 * S });
  const c = slotsOf(cron('*/10 * * * * *'));
  assert.deepEqual(planSlots(c, { everyMs: null, catchUp: 'run-once' }, from, now - 1, 2 * S), { slots: [T + 60 * S], missed: 5, nextAt: T + 70 * S });
});

test('a year of one-second slots down: one catch-up job at most, the next slot found without walking the 31 million between', () => {
  const year = 365 * 86_400 * S;
  const every1 = planSlots(slotsOf(every(S)), { everyMs: S, catchUp: 'run-once' }, T + S, T + year, 0);
  assert.deepEqual([every1.slots, every1.missed, every1.nextAt], [[T + year - S, T + year], year / S - 2, T + year + S]);
  const cron1 = planSlots(slotsOf(cron('* * * * * *')), { everyMs: null, catchUp: 'skip' }, T + S, T + year + 500, 0);
  assert.deepEqual([cron1.slots, cron1.missed, cron1.nextAt], [[], 10_000, T + year + S]); // cron's missed slots are counted up to 10,000 per firing
});
