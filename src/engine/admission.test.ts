import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultQueueConfig } from '../core/queue-config.ts';
import { Admission, pauseRule, type AdmissionRule } from './admission.ts';

const open = { config: defaultQueueConfig(), paused: false };
const paused = { ...open, paused: true };

test('a paused queue admits nothing; an open one what was asked', async () => {
  const a = new Admission();
  assert.equal(await a.admit('q', 10, open), 10);
  assert.equal(await a.admit('q', 10, paused), 0);
});

test('rules apply in order and each can only lower what the previous allowed', async () => {
  const seen: number[] = [];
  const atMost = (n: number): AdmissionRule => ({ name: `at most ${n}`, admit: (_q, want) => (seen.push(want), n) });
  const a = new Admission([pauseRule, atMost(7), atMost(20), { name: 'async', admit: async (_q, want) => want - 2.5 }]);
  assert.equal(await a.admit('q', 10, open), 4);
  assert.deepEqual(seen, [10, 7], 'the second rule is asked for what the first allowed');
  seen.length = 0;
  assert.equal(await a.admit('q', 10, paused), 0);
  assert.deepEqual(seen, [], 'rules after a refusal are not asked');
  assert.equal(await new Admission([{ name: 'negative', admit: () => -3 }]).admit('q', 5, open), 0);
});
