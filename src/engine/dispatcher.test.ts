import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job } from '../core/job.ts';
import { QueueDispatcher } from './dispatcher.ts';

/** A dispatcher whose claims hand out the jobs of `backlog`, at most `perClaim` at a time. */
function dispatcher(backlog: string[], perClaim: number) {
  const d = new QueueDispatcher({
    claimBatchMax: 100,
    claim: async (limit) => backlog.splice(0, Math.min(limit, perClaim)).map((id) => ({ id }) as Job),
    giveBack: () => assert.fail('nothing is given back while subscribers have credits'),
    delivered: () => {},
  });
  return d;
}

test('under a light load (one job per claim) the jobs go round the subscribers, not all to the first in line', async () => {
  const backlog = Array.from({ length: 12 }, (_, i) => `j${i}`);
  const d = dispatcher(backlog, 1);
  const got: Record<string, string[]> = { a: [], b: [], c: [] };
  for (const name of ['a', 'b', 'c'] as const) {
    // Each subscriber finishes its job at once and gives the credit back, as a fast worker does.
    const sub = d.subscribe({ deliver: (jobs) => { got[name]!.push(...jobs.map((j) => j.id)); queueMicrotask(() => sub.addCredits(jobs.length)); }, revoke: () => {} });
    sub.addCredits(4);
  }
  while (backlog.length > 0) {
    d.wake();
    await d.idle();
  }
  assert.deepEqual(Object.values(got).map((ids) => ids.length), [4, 4, 4], JSON.stringify(got));
});

test('a batch is dealt one job at a time round the subscribers that have credits', async () => {
  const backlog = Array.from({ length: 5 }, (_, i) => `j${i}`);
  const d = dispatcher(backlog, 5);
  const got: Record<string, string[]> = { a: [], b: [] };
  const a = d.subscribe({ deliver: (jobs) => void got.a!.push(...jobs.map((j) => j.id)), revoke: () => {} });
  const b = d.subscribe({ deliver: (jobs) => void got.b!.push(...jobs.map((j) => j.id)), revoke: () => {} });
  a.addCredits(4);
  b.addCredits(1);
  await d.idle();
  assert.deepEqual(got, { a: ['j0', 'j2', 'j3', 'j4'], b: ['j1'] });
});
