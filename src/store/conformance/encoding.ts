import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError, SpoolError } from '../../core/errors.ts';
import { newJobId } from '../../core/ids.ts';
import type { Job } from '../../core/job.ts';
import { defaultQueueConfig, resolveQueueConfig } from '../../core/queue-config.ts';
import type { LeaseMiss, NewJobRow, Store } from '../store.ts';
import { suiteInProcessOnly, withHarness, type Api, type HarnessTarget } from './harness.ts';
import { waitFor } from './worker.ts';

const lease = (j: Job) => ({ jobId: j.id, token: j.leaseToken });
/** What JSON makes of a value, i.e. what a store gives back: -0 becomes 0, undefined members go. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

function circular(): unknown {
  const o = { a: { b: 1 } as Record<string, unknown> };
  o.a.self = o.a;
  return o;
}

function nested(depth: number): unknown {
  let v: unknown = ['bottom'];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Values no store may keep, with the message each is refused with (the path, the reason, what to do). */
const REFUSED: [string, () => unknown, RegExp][] = [
  ['U+0000 in a string', () => ({ user: { name: 'a\u0000b' } }), /^payload\.user\.name contains the character U\+0000 \(NUL\) at index 1, which Spool does not store.*base64/],
  ['U+0000 in a key', () => ({ user: { 'na\u0000me': 1 } }), /^the key "na\\u0000me" of payload\.user contains the character U\+0000 \(NUL\)/],
  ['a lone high surrogate', () => ({ items: [0, 1, 2, 'x\ud800'] }), /^payload\.items\[3\] contains an unpaired surrogate \(\\ud800\) at index 1, which is not valid Unicode/],
  ['a lone low surrogate', () => ['\udc00'], /^payload\[0\] contains an unpaired surrogate \(\\udc00\)/],
  ['a surrogate pair in the wrong order', () => ({ s: '\ude00\ud83d' }), /^payload\.s contains an unpaired surrogate \(\\ude00\) at index 0/],
  ['a lone surrogate in a key', () => ({ 'k\ud83d': true }), /^the key "k\\ud83d" of payload contains an unpaired surrogate/],
  ['NaN', () => ({ score: NaN }), /^payload\.score is NaN; JSON has no NaN or Infinity: send null or a string$/],
  ['Infinity', () => ({ a: [1, Infinity] }), /^payload\.a\[1\] is Infinity; JSON has no NaN/],
  ['-Infinity', () => -Infinity, /^payload is -Infinity; JSON has no NaN/],
  ['NaN from a toJSON', () => ({ t: { toJSON: () => NaN } }), /^payload\.t is NaN/],
  ['a BigInt', () => ({ n: 10n }), /^payload\.n is a BigInt \(10n\); JSON has no BigInt/],
  ['a circular structure', circular, /^payload\.a\.self refers back to payload\.a: a circular structure cannot be sent as JSON/],
];

/** Every other tricky JSON value: each must come back as JSON makes it, on every store. */
const TRICKY: [string, unknown][] = [
  ['emoji and astral characters', { s: '😀 𝄞 🏳️‍🌈 é ✓ 日本', '𝄞': ['😀'] }],
  ['a valid surrogate pair, written as escapes', JSON.parse('{"s":"\\ud83d\\ude00"}')],
  ['every control character but U+0000', Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')],
  ['line and paragraph separators', { '\u2028': '\u2028\u2029' }],
  ['a backslash followed by u0000, as text', { s: '\\u0000', t: '\\\\u0000', u: '\\ud800' }],
  ['big and tiny numbers', [1e308, -1e308, Number.MAX_VALUE, 5e-324, -5e-324, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, 0.1, 1 / 3, 1e21, 1e-7]],
  ['minus zero (JSON gives 0)', { z: -0, a: [-0] }],
  ['deeply nested arrays', nested(1000)],
  ['the key __proto__ as an own property', JSON.parse('{"__proto__":1,"a":{"__proto__":[2]}}')],
  ['nulls, and strings that read null', { s: 'null', n: null, a: [null, 'null'] }],
  ['empty things', { o: {}, a: [], s: '', k: { '': '' } }],
  ['keys in no particular order', { b: 1, a: 2, aa: 3, '': 4, '10': 5, '9': 6 }],
  ['members that JSON leaves out', { a: undefined, f: () => 1, b: [undefined] }],
];

function assertRefused(err: unknown, field: string, message: RegExp): true {
  assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  assert.equal(err.code, 'INVALID_ARGUMENT');
  assert.equal(err.field, field);
  assert.match(err.message, message);
  return true;
}

async function assertNothingStored(api: Api, store: Store): Promise<void> {
  const stats = await api.stats();
  assert.equal(stats.reduce((n, s) => n + s.counts.ready + s.counts.scheduled, 0), 0, 'nothing was written');
  assert.deepEqual(await store.queueList(), [], 'not even a queue');
}

/** Whether a value holds a string (value or key) no store keeps: the test's own oracle. */
function holdsUnstorableString(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0') || !value.isWellFormed();
  if (Array.isArray(value)) return value.some(holdsUnstorableString);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).some(([k, v]) => v !== undefined && (holdsUnstorableString(k) || holdsUnstorableString(v)));
  }
  return false;
}

export function encodingSuite(target: HarnessTarget): void {
  describe('payload and result encoding', () => {
    for (const [what, make, message] of REFUSED) {
      it(`refuses ${what} in a payload, naming the path, and writes nothing`, () =>
        withHarness(target, async ({ api, store }) => {
          await assert.rejects(api.queue('q').add(make()), (e) => assertRefused(e, 'payload', message));
          await assertNothingStored(api, store);
        }));
    }

    it('refuses a whole addMany for one unstorable item, naming the item', () =>
      withHarness(target, async ({ api, store }) => {
        const items = [{ payload: { i: 0 } }, { payload: { i: 1 } }, { payload: { i: 2, v: NaN } }];
        await assert.rejects(api.queue('q').addMany(items), (e) => assertRefused(e, 'payload', /^items\[2\]: payload\.v is NaN/));
        await assertNothingStored(api, store);
      }));

    it('refuses a job name with U+0000 or a lone surrogate', () =>
      withHarness(target, async ({ api, store }) => {
        await assert.rejects(api.queue('q').add({}, { name: 'we\u0000lcome' }), (e) => assertRefused(e, 'name', /^job name "we\\u0000lcome" contains the character U\+0000/));
        await assert.rejects(api.queue('q').add({}, { name: 'x\ud800' }), (e) => assertRefused(e, 'name', /unpaired surrogate/));
        await assertNothingStored(api, store);
      }));

    for (const [what, value] of TRICKY) {
      it(`round-trips ${what}, as payload and as result`, () =>
        withHarness(target, async ({ api, spool }) => {
          const added = await api.queue('q').add(value);
          const stored = (await api.get(added.id)).payload;
          assert.deepEqual(stored, asJson(value));
          const [job] = await spool.claim('q');
          assert.deepEqual(job!.payload, asJson(value));
          await api.ack(lease(job!), value);
          const done = await api.get(job!.id);
          assert.equal(done.state, 'completed');
          assert.deepEqual(done.result, asJson(value));
        }));
    }

    it('keeps __proto__ as an own key, and -0 as 0', () =>
      withHarness(target, async ({ api }) => {
        const job = await api.queue('q').add(JSON.parse('{"__proto__":{"polluted":true},"z":-0}'));
        const payload = (await api.get(job.id)).payload as Record<string, unknown>;
        assert.ok(Object.hasOwn(payload, '__proto__'));
        assert.equal(Object.getPrototypeOf(payload), Object.prototype, 'no prototype was set');
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
        assert.ok(Object.is(payload.z, 0));
      }));

    it('refuses an unstorable result; the lease stays held and a corrected ack completes the job', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        await assert.rejects(api.ack(lease(job!), { out: 'a\u0000' }), (e) => assertRefused(e, 'result', /^result\.out contains the character U\+0000/));
        await assert.rejects(api.ack(lease(job!), { out: ['\udbff'] }), (e) => assertRefused(e, 'result', /^result\.out\[0\] contains an unpaired surrogate/));
        await assert.rejects(api.ack(lease(job!), NaN), (e) => assertRefused(e, 'result', /^result is NaN/));
        assert.equal((await api.get(job!.id)).state, 'active');
        await api.ack(lease(job!), { out: 'a' });
        const done = await api.get(job!.id);
        assert.equal(done.state, 'completed');
        assert.deepEqual(done.result, { out: 'a' });
      }));

    it('a worker whose handler returns an unstorable result fails the attempt with the reason, instead of leaving the job leased', () =>
      withHarness(target, async ({ api }) => {
        await api.queue('q').configure({ maxAttempts: 1 });
        const job = await api.queue('q').add({});
        const failed: unknown[] = [];
        const worker = api.queue('q').work(async () => ({ score: NaN }));
        worker.on('failed', (_job, err) => void failed.push(err));
        await waitFor(async () => (await api.get(job.id)).state === 'dead', 20_000, 'the job to be dead-lettered');
        const dead = await api.get(job.id);
        assert.match(dead.lastError ?? '', /result\.score is NaN/);
        assert.equal(failed.length, 1);
        await worker.close();
      }));

    it('stores a nack error with U+0000 and lone surrogates replaced by U+FFFD, and retries the job', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ backoff: { type: 'fixed', delayMs: 100 } });
        await api.queue('q').addMany([{ payload: 1 }, { payload: 2 }]);
        const [a, b] = await spool.claim('q', 2);
        assert.equal(await api.nack(lease(a!), new Error('bad\u0000byte \ud800 here')), 'scheduled');
        assert.equal(await api.nack(lease(b!), 'x\u0000y\udfff'), 'scheduled');
        const failedA = await api.get(a!.id);
        assert.match(failedA.lastError!, /^Error: bad\ufffdbyte \ufffd here/);
        assert.match(failedA.history[0]!.error!, /^Error: bad\ufffdbyte \ufffd here/);
        const failedB = await api.get(b!.id);
        assert.equal(failedB.lastError, 'x\ufffdy\ufffd');
        assert.equal(failedB.history[0]!.error, 'x\ufffdy\ufffd');
        await clock.advance(100);
        const again = await spool.claim('q', 2);
        assert.deepEqual(again.map((j) => j.attempt), [2, 2], 'retried as usual, not dead');
      }));

    describe('one bad item among the calls of one tick fails alone', () => {
      it('five adds, one unstorable: four stored, one refused', () =>
        withHarness(target, async ({ api }) => {
          const q = api.queue('tick');
          const payloads = [{ i: 0 }, { i: 1 }, { i: 2, bad: 'nul\u0000' }, { i: 3 }, { i: 4 }];
          const settled = await Promise.allSettled(payloads.map((p) => q.add(p)));
          assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
          assertRefused((settled[2] as PromiseRejectedResult).reason, 'payload', /^payload\.bad contains the character U\+0000/);
          assert.equal((await q.stats()).counts.ready, 4);
          assert.deepEqual((await q.list()).map((j) => (j.payload as { i: number }).i), [0, 1, 3, 4]);
        }));

      it('five acks, one with an unstorable result: four completed, one refused whose lease still works', () =>
        withHarness(target, async ({ api, spool }) => {
          await api.queue('tick').addMany(Array.from({ length: 5 }, (_, i) => ({ payload: { i } })));
          const jobs = await spool.claim('tick', 5);
          const settled = await Promise.allSettled(jobs.map((j, i) => api.ack(lease(j), i === 2 ? { bad: 'x\ud800' } : { ok: i })));
          assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
          assertRefused((settled[2] as PromiseRejectedResult).reason, 'result', /^result\.bad contains an unpaired surrogate/);
          const states = await Promise.all(jobs.map(async (j) => (await api.get(j.id)).state));
          assert.deepEqual(states, ['completed', 'completed', 'active', 'completed', 'completed']);
          await api.ack(lease(jobs[2]!), { ok: 2 });
          assert.deepEqual((await api.get(jobs[2]!.id)).result, { ok: 2 });
        }));

      it('five nacks, one with U+0000 in its error: all five recorded', () =>
        withHarness(target, async ({ api, spool }) => {
          await api.queue('tick').addMany(Array.from({ length: 5 }, (_, i) => ({ payload: { i } })));
          const jobs = await spool.claim('tick', 5);
          const settled = await Promise.allSettled(jobs.map((j, i) => api.nack(lease(j), new Error(i === 2 ? 'nul\u0000here' : `plain ${i}`))));
          assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'], JSON.stringify(settled.map((s) => (s as PromiseRejectedResult).reason?.message)));
          const stored = await Promise.all(jobs.map((j) => api.get(j.id)));
          assert.deepEqual(stored.map((j) => j.state), ['scheduled', 'scheduled', 'scheduled', 'scheduled', 'scheduled']);
          assert.match(stored[2]!.lastError!, /^Error: nul\ufffdhere/);
        }));
    });

    // In-process only, the whole suite: its tests call the store directly, past the engine's checks;
    // nothing of them goes through the public contract but setting up and reading back.
    suiteInProcessOnly(target, 'calls the store directly, past the engine checks')('at the store: independent items fail alone, atomic inserts fail whole', () => {
      const rowMaker = (now: number) => (queue: string, payload: string): NewJobRow => ({
        id: newJobId(now), queue, name: 'default', payload, priority: 0, runAt: now, state: 'ready', maxAttempts: 5, maxStalls: 3, timeoutMs: 0, trace: null, group: null, createdAt: now,
      });

      it('a failed insert creates no queue; a stored one creates it with default settings', () =>
        withHarness(target, async ({ store, clock }) => {
          const row = rowMaker(clock.now());
          const existing = row('first', '{"i":0}');
          await store.jobsInsertMany([existing]);
          const first = await store.queueGet('first');
          assert.ok(first, 'the first job creates its queue');
          assert.deepEqual(resolveQueueConfig(first.config, defaultQueueConfig()), defaultQueueConfig());
          assert.equal(first.paused, false);
          // Atomic: a row that collides with a stored id fails the whole insert, and its new queue is not made.
          await assert.rejects(store.jobsInsertMany([row('fresh', '{"i":1}'), { ...existing, queue: 'fresh' }]));
          assert.equal(await store.queueGet('fresh'), null);
          assert.deepEqual(await store.jobsList({ queue: 'fresh', limit: 10 }), []);
          // One by one: only the colliding row fails.
          const rows = [row('each', '{"i":0}'), row('each', '{"i":1}'), { ...existing, queue: 'each' }, row('each', '{"i":3}'), row('each', '{"i":4}')];
          const outcomes = await store.jobsInsertEach(rows);
          assert.deepEqual(outcomes.map((o) => o.ok), [true, true, false, true, true]);
          const refused = outcomes[2] as { ok: false; error: Error };
          assert.ok(refused.error instanceof SpoolError, `a SpoolError, not ${refused.error.constructor.name}: ${refused.error.message}`);
          assert.match(refused.error.message, new RegExp(existing.id));
          assert.deepEqual((await store.jobsList({ queue: 'each', limit: 10 })).map((j) => j.payload), [{ i: 0 }, { i: 1 }, { i: 3 }, { i: 4 }]);
          assert.ok(await store.queueGet('each'));
          // A queue whose only row was refused is not made.
          const [lonely] = await store.jobsInsertEach([{ ...existing, queue: 'lonely' }]);
          assert.equal(lonely!.ok, false);
          assert.equal(await store.queueGet('lonely'), null);
          // An existing queue's settings are left as they are.
          await store.queueUpsert('first', { ...defaultQueueConfig(), maxAttempts: 9 }, clock.now());
          await store.jobsInsertEach([row('first', '{"i":5}')]);
          assert.equal((await store.queueGet('first'))!.config.maxAttempts, 9);
        }));

      it('values only some databases refuse, sent past the engine checks: each such item fails alone', () =>
        withHarness(target, async ({ api, spool, store, clock }) => {
          const now = clock.now();
          const row = rowMaker(now);
          // JSON text with \u0000 or a lone surrogate escaped: SQLite keeps it, PostgreSQL's jsonb refuses it.
          const texts = ['{"i":0}', '{"i":1,"v":"\\u0000"}', '{"i":2}', '{"i":3,"v":"\\ud800"}', '{"i":4}'];
          const rows = texts.map((t) => row('raw', t));
          const outcomes = await store.jobsInsertEach(rows);
          for (const i of [0, 2, 4]) assert.equal(outcomes[i]!.ok, true, `row ${i} is stored`);
          for (const i of [1, 3]) {
            const o = outcomes[i]!;
            if (o.ok) continue; // this store keeps the text as it is
            assertRefused(o.error, 'payload', new RegExp(`^cannot add job ${rows[i]!.id} to raw: `));
            assert.equal((await store.jobsGet([rows[i]!.id]))[0], null);
          }
          const stored = await store.jobsGet(rows.map((r) => r.id));
          for (const i of [0, 2, 4]) assert.deepEqual(stored[i]!.payload, { i });

          // Acks and nacks: a result or an error text the database refuses fails that item only.
          await api.queue('leased').addMany(Array.from({ length: 6 }, (_, i) => ({ payload: { i } })));
          const jobs = await spool.claim('leased', 6);
          const done = await store.jobsComplete(
            [{ lease: lease(jobs[0]!), result: '{"ok":0}' }, { lease: lease(jobs[1]!), result: '{"ok":"\\u0000"}' }, { lease: lease(jobs[2]!), result: '"\\udfff"' }],
            clock.now(),
          );
          assert.equal(done[0]!.ok, true);
          for (const i of [1, 2]) {
            const r = done[i]!;
            if (r.ok) continue;
            assert.ok((r as LeaseMiss).error, 'a refused item carries its error, not a stale lease');
            assertRefused((r as LeaseMiss).error, 'result', new RegExp(`^cannot complete job ${jobs[i]!.id}: `));
            assert.equal((await api.get(jobs[i]!.id)).state, 'active', 'the refused job is left as it was');
            await api.ack(lease(jobs[i]!), { corrected: true });
          }
          const failed = await store.jobsFail(
            [3, 4, 5].map((i) => ({ lease: lease(jobs[i]!), error: i === 4 ? 'raw\u0000nul' : `error ${i}`, retryAt: clock.now() + 1000, unrecoverable: false })),
            clock.now(),
          );
          assert.equal(failed[0]!.ok, true);
          assert.equal(failed[2]!.ok, true);
          if (!failed[1]!.ok) assertRefused((failed[1] as LeaseMiss).error, 'error', new RegExp(`job ${jobs[4]!.id}`));
          const states = await Promise.all(jobs.map(async (j) => (await api.get(j.id)).state));
          assert.deepEqual(states.slice(0, 3), ['completed', 'completed', 'completed']);
          assert.equal(states[3], 'scheduled');
          assert.equal(states[5], 'scheduled');
        }));
    });

    describe('property: JSON values round-trip (fast-check)', () => {
      it('any fc.jsonValue() comes back as JSON makes it', { timeout: 120_000 }, () =>
        withHarness(target, async ({ api }) => {
          const q = api.queue('prop');
          await fc.assert(
            fc.asyncProperty(fc.jsonValue(), async (value) => {
              const job = await q.add(value);
              assert.deepEqual((await api.get(job.id)).payload, asJson(value));
            }),
            { numRuns: 100 },
          );
        }));

      it('with any UTF-16 text, a value is refused exactly when it holds U+0000 or a lone surrogate, else round-trips', { timeout: 120_000 }, () =>
        withHarness(target, async ({ api }) => {
          const q = api.queue('prop');
          const unit = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff'));
          await fc.assert(
            fc.asyncProperty(fc.jsonValue({ stringUnit: unit, maxDepth: 4 }), async (value) => {
              if (holdsUnstorableString(value)) {
                await assert.rejects(q.add(value), (e) => assertRefused(e, 'payload', /U\+0000|unpaired surrogate/));
              } else {
                const job = await q.add(value);
                assert.deepEqual((await api.get(job.id)).payload, asJson(value));
              }
            }),
            { numRuns: 100 },
          );
        }));
    });
  });
}
