import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultQueueConfig } from '../core/queue-config.ts';
import { Admission, pauseRule, type AdmissionRule } from './admission.ts';

const open = { config: defaultQueueConfig(), paused: false };
const paused = { ...open, paused: true };

test('a paused queue admits nothing; an open one what was asked', async () => {
  const a = new Admission();
  assert.equal((await a.admit('q', 10, open)).admitted, 10);
  assert.equal((await a.admit('q', 10, paused)).admitted, 0);
});

test('rules apply in order and each can only lower what the previous allowed', async () => {
  const seen: number[] = [];
  const atMost = (n: number): AdmissionRule => ({ name: `at most ${n}`, admit: (_q, want) => (seen.push(want), n) });
  const a = new Admission([pauseRule, atMost(7), atMost(20), { name: 'async', admit: async (_q, want) => want - 2.5 }]);
  assert.equal((await a.admit('q', 10, open)).admitted, 4);
  assert.deepEqual(seen, [10, 7], 'the second rule is asked for what the first allowed');
  seen.length = 0;
  assert.equal((await a.admit('q', 10, paused)).admitted, 0);
  assert.deepEqual(seen, [], 'rules after a refusal are not asked');
  assert.equal((await new Admission([{ name: 'negative', admit: () => -3 }]).admit('q', 5, open)).admitted, 0);
});

test('a rule that holds jobs back says when more may be admitted; every rule that reserved hears what was leased', async () => {
  const settled: [string, number][] = [];
  const reserving = (name: string, n: number, retryAt: number | null): AdmissionRule => ({
    name,
    admit: () => ({ admitted: n, retryAt, settle: (leased) => void settled.push([name, leased]) }),
  });
  const a = new Admission([reserving('a', 6, null), reserving('b', 4, 1000), reserving('c', 4, 5000)]);
  const ticket = await a.admit('q', 10, open);
  assert.deepEqual([ticket.admitted, ticket.retryAt], [4, 1000], 'the retry time of a rule that lowered the count; c did not lower it');
  await ticket.settle(3);
  assert.deepEqual(settled, [['a', 3], ['b', 3], ['c', 3]]);

  settled.length = 0;
  const failing = new Admission([reserving('a', 5, null), { name: 'down', admit: () => Promise.reject(new Error('store down')) }]);
  await assert.rejects(failing.admit('q', 10, open), /store down/);
  assert.deepEqual(settled, [['a', 0]], 'what an earlier rule reserved goes back when a later one fails');
});
