import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StaleLeaseError } from '../../core/errors.ts';
import type { Job, Lease } from '../../core/job.ts';
import type { Store } from '../store.ts';
import { withHarness, type HarnessTarget } from './harness.ts';
import { deferred, waitFor } from './worker.ts';

/**
 * A store whose reaper results are held back while `hold` is set: the reap has committed,
 * but the engine hears of it only when the test lets it. On a store with leadership the
 * reap runs inside `asLeader`, so its result is held there.
 */
function holdReaps(store: Store, gate: { hold: Promise<void> | null; reached: () => void }): Store {
  const held = async <T>(result: Promise<T>): Promise<T> => {
    const value = await result;
    if (gate.hold) {
      gate.reached();
      await gate.hold;
    }
    return value;
  };
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      if (key === 'asLeader' || key === 'jobsReapExpired') return (...args: unknown[]) => held((value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/** Revokes, aborts and in-flight removals are keyed by (job id, lease token), never by job id alone. */
export function fencingSuite(target: HarnessTarget): void {
  describe('fenced revokes', () => {
    it('a reap whose result arrives after the job was leased again revokes only the expired delivery', async () => {
      const reached = deferred();
      const release = deferred();
      const gate: { hold: Promise<void> | null; reached: () => void } = { hold: null, reached: () => reached.resolve() };
      // The wrapped store is the engine's: the client, in-process or through a broker, sees only
      // the reap's effects, so the test runs both ways.
      await withHarness(
        { ...target, factory: async (o) => holdReaps(await target.factory(o), gate) },
        async ({ api, spool, clock, settled }) => {
          const q = api.queue('q');
          await q.configure({ visibilityTimeoutMs: 1000 });
          const job = await q.add('J');

          // A consumer takes the job and stalls: it never extends, its lease runs out.
          const first: Job[] = [];
          const revoked: Lease[] = [];
          const stalled = api.subscribe('q', { deliver: (jobs) => void first.push(...jobs), revoke: (lease) => void revoked.push(lease) });
          stalled.addCredits(1);
          await waitFor(() => first.length === 1, 20_000, 'the first delivery');
          await clock.advance(1001);

          // The reap commits (the job is ready again) but its result is held back.
          gate.hold = release.promise;
          const maintenance = spool.runMaintenance();
          await reached.promise;
          gate.hold = null;

          // Meanwhile a healthy worker leases the job again and is still running it.
          let running: AbortSignal | null = null;
          const finish = deferred();
          const worker = q.work(async (j, { signal }) => {
            running = signal;
            await finish.promise;
            return `done by attempt ${j.attempt}`;
          });
          await waitFor(() => running !== null, 20_000, 'the second delivery');

          // Now the engine hears of the reap: only the expired lease may be revoked.
          release.resolve();
          await maintenance;
          await settled(); // remote: the revoke has travelled to the client
          try {
            assert.deepEqual(revoked, [{ jobId: job.id, token: first[0]!.leaseToken }]);
            assert.equal((running as AbortSignal | null)?.aborted, false, 'the healthy delivery was aborted by a reap meant for the expired one');
          } catch (err) {
            finish.resolve(); // let the worker close at once
            throw err;
          }

          finish.resolve();
          await waitFor(async () => (await api.get(job.id)).state === 'completed', 20_000, 'the healthy attempt to complete');
          const done = await api.get(job.id);
          assert.equal(done.result, 'done by attempt 2');
          assert.equal(done.stalls, 1, 'one stall, for the one expired lease');
          await assert.rejects(api.ack({ jobId: job.id, token: first[0]!.leaseToken }), StaleLeaseError);
          await worker.close();
        },
        { maintenance: false },
      );
    });

    it('a cancel revokes the lease it ended, not one taken later', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        const job = await q.add('J');
        const deliveries: Job[] = [];
        const revoked: Lease[] = [];
        const sub = api.subscribe('q', { deliver: (jobs) => void deliveries.push(...jobs), revoke: (lease) => void revoked.push(lease) });
        sub.addCredits(1);
        await waitFor(() => deliveries.length === 1, 20_000, 'the delivery');
        await api.cancel(job.id);
        // No settled() here: the revoke reaches the subscriber before the cancel returns, in-process and remote alike.
        assert.deepEqual(revoked, [{ jobId: job.id, token: deliveries[0]!.leaseToken }]);
        // Retried and leased again: a second cancel revokes the new lease, and only it.
        await api.retry(job.id);
        sub.addCredits(1);
        await waitFor(() => deliveries.length === 2, 20_000, 'the second delivery');
        await api.cancel(job.id);
        assert.deepEqual(revoked.at(-1), { jobId: job.id, token: deliveries[1]!.leaseToken });
        assert.equal(revoked.length, 2);
        sub.close();
      }));
  });
}
