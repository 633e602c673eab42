import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from './errors.ts';
import { checkLimit, LIMITS } from './limits.ts';
import { backoffDelayMs, checkPolicy, concurrencyRuleOf, defaultQueueConfig, jobOrderOf, resolveQueueConfig, sameJobOrder, SCHEDULING_POLICIES } from './queue-config.ts';

test('exponential backoff doubles up to its ceiling, with jitter between half and all of it', () => {
  const b = { type: 'exponential', delayMs: 100, maxDelayMs: 1000 } as const;
  assert.deepEqual([1, 2, 3, 4, 5, 60].map((a) => backoffDelayMs(b, a, () => 0)), [50, 100, 200, 400, 500, 500]);
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelayMs(b, a, () => 0.999999)), [100, 200, 400, 800, 1000]);
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelayMs(b, 3);
    assert.ok(d >= 200 && d <= 400, String(d));
  }
});

test('fixed backoff is fixed', () => {
  assert.equal(backoffDelayMs({ type: 'fixed', delayMs: 250 }, 9), 250);
});

test('every limit has default within [min, max] and a doc line', () => {
  for (const [name, b] of Object.entries(LIMITS)) {
    assert.ok(b.min <= b.default && b.default <= b.max, name);
    assert.ok(b.doc.length > 10, name);
  }
});

test('limits name the field and the bound', () => {
  assert.throws(() => checkLimit('concurrency', 0), (e: Error) => e instanceof InvalidArgumentError && e.message === 'concurrency must be at least 1 (got 0)');
  assert.throws(() => checkLimit('concurrency', 20_000), /concurrency must be at most 10000 \(got 20000\)/);
  assert.throws(() => checkLimit('concurrency', '3'), /concurrency must be an integer \(got "3"\)/);
  assert.equal(checkLimit('concurrency', undefined), 1);
});

test('queue config merges over the current one and keeps unspecified fields', () => {
  const base = resolveQueueConfig({ maxAttempts: 9 });
  assert.equal(base.maxAttempts, 9);
  const next = resolveQueueConfig({ backoff: { delayMs: 5 } }, base);
  assert.equal(next.maxAttempts, 9);
  assert.deepEqual(next.backoff, { ...defaultQueueConfig().backoff, delayMs: 5 });
  assert.throws(() => resolveQueueConfig({ backoff: { type: 'fixed', delayMs: -1 } }), /backoff.delayMs must be at least 0/);
  assert.throws(() => resolveQueueConfig('fast'), /queue config must be an object/);
});

test('docs/configuration.md lists every limit with its default, min and max', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const fmt = (n: number) => n.toLocaleString('en-US').replace(/,/g, '_');
  for (const [name, b] of Object.entries(LIMITS)) {
    const row = `| \`${name}\` | ${fmt(b.default)} | ${fmt(b.min)} | ${fmt(b.max)} |`;
    assert.ok(doc.includes(row), `docs/configuration.md is missing or out of date for ${name}: expected a row starting ${row}`);
  }
  // …and nothing else: every row of the limits table is a limit.
  const table = doc.slice(doc.indexOf('## Limits'), doc.indexOf('\n## ', doc.indexOf('## Limits') + 1));
  const rows = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(rows.sort(), Object.keys(LIMITS).sort());
});

test('policy: the four policies, refused otherwise naming the nearest; the order a store keys jobs by', () => {
  assert.equal(defaultQueueConfig().policy, 'fifo');
  for (const policy of SCHEDULING_POLICIES) assert.equal(checkPolicy(policy), policy);
  assert.throws(() => checkPolicy('FIFO'), /did you mean 'fifo'\?/);
  assert.throws(() => checkPolicy('sfj'), /did you mean 'sjf'\?/);
  assert.throws(() => checkPolicy('round-robin'), /one of 'fifo', 'priority', 'sjf', 'fair'/);
  assert.throws(() => checkPolicy(undefined), /unknown scheduling policy undefined/);
  const config = resolveQueueConfig({ policy: 'priority', agingMs: 250 });
  assert.deepEqual(jobOrderOf(config), { policy: 'priority', agingMs: 250 });
  assert.equal(jobOrderOf(defaultQueueConfig()), null, 'fifo: no key');
  assert.deepEqual(jobOrderOf(resolveQueueConfig({ policy: 'sjf', sjfCostFactor: 3 })), { policy: 'sjf', costFactor: 3 });
  assert.deepEqual(jobOrderOf(resolveQueueConfig({ policy: 'fair', fairWeights: { a: 2 } })), { policy: 'fair', weights: { a: 2 } });
  // A setting of another policy does not change the order: no rekeying.
  assert.ok(sameJobOrder(jobOrderOf(config), jobOrderOf(resolveQueueConfig({ sjfCostFactor: 99 }, config))));
  assert.ok(!sameJobOrder(jobOrderOf(config), jobOrderOf(resolveQueueConfig({ agingMs: 251 }, config))));
  // A queue stored before policies existed reads as fifo with the defaults.
  assert.deepEqual(resolveQueueConfig({ visibilityTimeoutMs: 1000 }), { ...defaultQueueConfig(), visibilityTimeoutMs: 1000 });
});

test('per-key concurrency and group FIFO: a claim rule only when the queue has one, settings stored before them read as none', () => {
  assert.equal(concurrencyRuleOf(defaultQueueConfig()), null, 'no rule: the plain claim');
  assert.equal(concurrencyRuleOf(resolveQueueConfig({ concurrencyLimit: 0 })), null, '0 is none');
  assert.deepEqual(concurrencyRuleOf(resolveQueueConfig({ concurrencyLimit: 3 })), { limit: 3, limits: {}, groupFifo: false });
  assert.deepEqual(concurrencyRuleOf(resolveQueueConfig({ concurrencyLimits: { vip: 5 } })), { limit: null, limits: { vip: 5 }, groupFifo: false });
  assert.deepEqual(concurrencyRuleOf(resolveQueueConfig({ groupFifo: true })), { limit: null, limits: {}, groupFifo: true });
  // A settings row written before these settings existed has none of the keys.
  const { concurrencyLimit: _a, concurrencyLimits: _b, groupFifo: _c, ...old } = defaultQueueConfig();
  assert.equal(concurrencyRuleOf(resolveQueueConfig({ maxAttempts: 2 }, old as never)), null);
  assert.throws(() => resolveQueueConfig({ concurrencyLimits: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, 1])) }), /at most 1000 keys/);
  assert.throws(() => resolveQueueConfig({ concurrencyLimits: { '': 1 } }), /not a concurrency key/);
  assert.throws(() => resolveQueueConfig({ concurrencyLimit: 1_000_001 }), /at most 1000000/);
});
