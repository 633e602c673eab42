import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultQueueConfig } from '../core/queue-config.ts';
import { Admission, pauseRule, type AdmissionRule } from './admission.ts';
import { rateLimitRule } from './rate-limit.ts';

const open = { config: defaultQueueConfig(), paused: false };
const paused = { ...open, paused: true };

test('a paused queue admits nothing; an open one what was asked', () => {
  const a = new Admission();
  assert.equal(a.admit('q', 10, open).admitted, 10);
  assert.equal(a.admit('q', 10, paused).admitted, 0);
});

test('rules apply in order and each can only lower what the previous allowed', () => {
  const seen: number[] = [];
  const atMost = (n: number): AdmissionRule => ({ name: `at most ${n}`, admit: (_q, want) => (seen.push(want), n) });
  const a = new Admission([pauseRule, atMost(7), atMost(20), { name: 'fraction', admit: (_q, want) => want - 2.5 }]);
  assert.equal(a.admit('q', 10, open).admitted, 4);
  assert.deepEqual(seen, [10, 7], 'the second rule is asked for what the first allowed');
  seen.length = 0;
  assert.equal(a.admit('q', 10, paused).admitted, 0);
  assert.deepEqual(seen, [], 'rules after a refusal are not asked');
  assert.equal(new Admission([{ name: 'negative', admit: () => -3 }]).admit('q', 5, open).admitted, 0);
});

test('rate limits add their buckets to the claim rather than take tokens; a paused queue gets none', () => {
  const a = new Admission([pauseRule, rateLimitRule]);
  assert.deepEqual(a.admit('q', 10, open), { admitted: 10, claim: {} }, 'no limit: nothing added');
  const config = { ...defaultQueueConfig(), rateLimit: { rate: 5, perMs: 1000, burst: 7, limiter: 'smtp' }, keyRateLimit: { rate: 2, perMs: 60_000, burst: 2 } };
  assert.deepEqual(a.admit('q', 10, { config, paused: false }), {
    admitted: 10,
    claim: { rate: { name: 'limiter:smtp', rate: 5, perMs: 1000, burst: 7 }, keyRate: { limit: { rate: 2, perMs: 60_000, burst: 2 }, limits: {} } },
  });
  assert.deepEqual(a.admit('q', 10, { config, paused: true }), { admitted: 0, claim: {} });
});
