import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StaleLeaseError } from '../../core/errors.ts';
import type { Job } from '../../core/job.ts';
import { inProcessOnly, withHarness, type Api, type HarnessTarget } from './harness.ts';

const lease = (j: Job) => ({ jobId: j.id, token: j.leaseToken });

export function leaseSuite(target: HarnessTarget): void {
  describe('leases', () => {
    it('extend pushes the deadline out; an expired lease is redelivered with attempt + 1', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ visibilityTimeoutMs: 1000 });
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        await clock.advance(800);
        assert.equal(await api.extend(lease(job!)), clock.now() + 1000);
        await clock.advance(800);
        await spool.runMaintenance();
        assert.equal((await api.get(job!.id)).state, 'active', 'the extended lease still holds');
        await clock.advance(300);
        await spool.runMaintenance();
        const expired = await api.get(job!.id);
        assert.equal(expired.state, 'ready');
        assert.equal(expired.stalls, 1);
        assert.equal(expired.history[0]!.outcome, 'expired');
        const [again] = await spool.claim('q');
        assert.equal(again!.attempt, 2);
        assert.equal(again!.leaseToken, 2);
      }));

    it('fencing: after redelivery the old lease cannot ack, nack, extend or release', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ visibilityTimeoutMs: 1000 });
        await api.queue('q').add({});
        const [first] = await spool.claim('q');
        await clock.advance(1000);
        await spool.runMaintenance();
        const [second] = await spool.claim('q');
        for (const call of [
          () => api.ack(lease(first!)),
          () => api.nack(lease(first!), 'late'),
          () => api.extend(lease(first!)),
          () => api.release(lease(first!)),
        ]) {
          await assert.rejects(call(), (e: Error) => e instanceof StaleLeaseError && /redelivered \(lease 2 is current\)/.test(e.message));
        }
        const current = await api.get(second!.id);
        assert.equal(current.state, 'active');
        assert.equal(current.leaseToken, 2);
        await api.ack(lease(second!));
        assert.equal((await api.get(second!.id)).state, 'completed');
      }));

    it('a job whose lease expires maxStalls times is dead-lettered as poison', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ visibilityTimeoutMs: 1000, maxStalls: 2, maxAttempts: 10 });
        await api.queue('q').add({});
        for (let i = 0; i < 2; i++) {
          assert.equal((await spool.claim('q')).length, 1);
          await clock.advance(1000);
          await spool.runMaintenance();
        }
        const dead = (await api.list('q'))[0]!;
        assert.equal(dead.state, 'dead');
        assert.equal(dead.deadReason, 'poison');
        assert.deepEqual(dead.history.map((h) => h.outcome), ['expired', 'expired']);
        assert.deepEqual(await spool.claim('q'), []);
      }));

    it('an expired lease counts against maxAttempts', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ visibilityTimeoutMs: 1000, maxStalls: 5, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 0 } });
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        await api.nack(lease(job!), 'first');
        await spool.claim('q');
        await clock.advance(1000);
        await spool.runMaintenance();
        const dead = await api.get(job!.id);
        assert.equal(dead.state, 'dead');
        assert.equal(dead.deadReason, 'max-attempts');
      }));

    it('release gives the job back without counting the attempt', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').add({});
        const [job] = await spool.claim('q');
        assert.equal(job!.attempt, 1);
        await api.release(lease(job!));
        const released = await api.get(job!.id);
        assert.equal(released.state, 'ready');
        assert.equal(released.attempt, 0);
        assert.equal(released.history[0]!.outcome, 'released');
        const [again] = await spool.claim('q');
        assert.equal(again!.attempt, 1, 'released attempts do not count');
        assert.equal(again!.leaseToken, 2, 'but the lease token still moves on');
        await assert.rejects(api.ack(lease(job!)), StaleLeaseError);
      }));

    it('a job released many times never reaches maxAttempts', () =>
      withHarness(target, async ({ api, spool }) => {
        await api.queue('q').add({}, { maxAttempts: 1 });
        for (let i = 0; i < 10; i++) {
          const [job] = await spool.claim('q');
          await api.release(lease(job!));
        }
        const [job] = await spool.claim('q');
        assert.equal(job!.attempt, 1);
        assert.equal(job!.history.length, 10);
      }));

    it('attempt history is bounded by historyMax', () =>
      withHarness(
        target,
        async ({ api, spool }) => {
          await api.queue('q').add({});
          for (let i = 0; i < 8; i++) {
            const [job] = await spool.claim('q');
            await api.release(lease(job!));
          }
          const job = (await api.list('q'))[0]!;
          assert.equal(job.history.length, 5);
          assert.equal(job.history.at(-1)!.token, 8);
        },
        {},
        { historyMax: 5 },
      ));

    it("a completed job's history ends with the attempt that completed it, within historyMax", () =>
      withHarness(
        target,
        async ({ api, spool, clock }) => {
          await api.queue('q').add({});
          for (let i = 0; i < 8; i++) {
            const [job] = await spool.claim('q');
            await api.release(lease(job!));
          }
          const [job] = await spool.claim('q');
          await clock.advance(3);
          await api.ack(lease(job!), 'ok');
          const done = await api.get(job!.id);
          assert.equal(done.history.length, 5);
          assert.deepEqual(done.history.map((h) => [h.token, h.outcome]), [[5, 'released'], [6, 'released'], [7, 'released'], [8, 'released'], [9, 'completed']]);
          assert.deepEqual(done.history.at(-1), { attempt: 1, token: 9, startedAt: clock.now() - 3, endedAt: clock.now(), outcome: 'completed' });
          assert.deepEqual((await api.list('q', { state: 'completed' }))[0]!.history, done.history, 'a list shows it as a get does');
        },
        {},
        { historyMax: 5 },
      ));
  });

  describe('terminal states are final', () => {
    const finish = {
      completed: async (api: Api, job: Job) => api.ack(lease(job)),
      dead: async (api: Api, job: Job) => void (await api.nack(lease(job), 'x', { unrecoverable: true })),
      cancelled: async (api: Api, job: Job) => api.cancel(job.id),
    };
    for (const [state, end] of Object.entries(finish)) {
      it(`${state}: no late ack, nack, extend, release, reaper or cancel changes it`, () =>
        withHarness(target, async ({ api, spool, clock }) => {
          await api.queue('q').configure({ visibilityTimeoutMs: 1000 });
          await api.queue('q').add({});
          const [job] = await spool.claim('q');
          await end(api, job!);
          const before = await api.get(job!.id);
          assert.equal(before.state, state);
          await assert.rejects(api.ack(lease(job!)), StaleLeaseError);
          await assert.rejects(api.nack(lease(job!), 'late'), StaleLeaseError);
          await assert.rejects(api.extend(lease(job!)), StaleLeaseError);
          await assert.rejects(api.release(lease(job!)), StaleLeaseError);
          await assert.rejects(api.cancel(job!.id));
          await clock.advance(60_000);
          await spool.runMaintenance();
          assert.deepEqual(await api.get(job!.id), before);
        }));
    }

    // In-process only: it races an ack against the reaper within 0–3 turns of the event loop. Over a
    // socket the ack takes more turns than that, so the reaper would always win: the race is the
    // engine's and the store's, and the remote client has no part in it.
    inProcessOnly(target, 'races an ack against the reaper within 0–3 turns of the event loop')('a race between lease expiry and a late ack never moves a terminal state back nor loses the job', () =>
      withHarness(target, async ({ api, spool, clock }) => {
        await api.queue('q').configure({ visibilityTimeoutMs: 100, maxStalls: 100, maxAttempts: 100 });
        const rounds = 200;
        let ackWon = 0;
        let reaperWon = 0;
        for (let i = 0; i < rounds; i++) {
          await api.queue('q').add(i);
          const [job] = await spool.claim('q');
          await clock.advance(100); // the lease is now due
          // Fire the reaper and the late ack together, the reaper delayed by 0–3 turns of the event loop.
          const ack = api.ack(lease(job!)).then(() => true, (e) => { assert.ok(e instanceof StaleLeaseError); return false; });
          const reap = (async () => {
            for (let k = 0; k < i % 4; k++) await new Promise((r) => setImmediate(r));
            await spool.runMaintenance();
          })();
          const [acked] = await Promise.all([ack, reap]);
          const after = await api.get(job!.id);
          if (acked) {
            ackWon++;
            assert.equal(after.state, 'completed');
          } else {
            reaperWon++;
            assert.equal(after.state, 'ready');
            // The reaper took it back: a fresh delivery must complete it.
            const [again] = await spool.claim('q');
            assert.equal(again!.id, job!.id);
            assert.equal(again!.attempt, 2);
            await api.ack(lease(again!));
          }
          await clock.advance(1000);
          await spool.runMaintenance();
          assert.equal((await api.get(job!.id)).state, 'completed', 'completed stays completed');
        }
        const stats = (await api.stats('q'))[0]!;
        assert.equal(stats.counts.completed, rounds, 'no job lost');
        assert.equal(ackWon + reaperWon, rounds);
        assert.ok(ackWon > 0 && reaperWon > 0, `both sides must win sometimes (ack ${ackWon}, reaper ${reaperWon})`);
      }));
  });
}
