import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StaleLeaseError, UnrecoverableError } from '../../core/errors.ts';
import { WorkerShutdownError } from '../../worker/worker.ts';
import { withHarness, type HarnessTarget } from './harness.ts';

/** Waits until `cond()` holds, checking every few milliseconds; fails after `timeoutMs` of real time (generous: CI machines are loaded). */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Resolves when `signal` aborts, with its reason. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
}

export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export function workerSuite(target: HarnessTarget): void {
  describe('worker runtime', () => {
    it('runs every job, never more than `concurrency` at once', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue<number>('q');
        await q.addMany(Array.from({ length: 20 }, (_, i) => ({ payload: i })));
        let running = 0;
        let peak = 0;
        const done: number[] = [];
        q.work(
          async (job) => {
            running++;
            peak = Math.max(peak, running);
            await new Promise((r) => setTimeout(r, 2));
            running--;
            done.push(job.payload);
            return job.payload * 2;
          },
          { concurrency: 3 },
        );
        await waitFor(async () => (await q.stats()).counts.completed === 20, 20_000, '20 completions');
        assert.equal(peak, 3);
        assert.deepEqual(done.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
        const [first] = await q.list({ state: 'completed', limit: 1 });
        assert.equal(first!.result, (first!.payload as number) * 2);
      }));

    it('is pushed new jobs without polling', () =>
      withHarness(
        target,
        async ({ api, settled }) => {
          const seen: unknown[] = [];
          api.queue('q').work(async (job) => void seen.push(job.payload));
          await settled(); // the worker's subscription is open (remote: it has reached the broker)
          await api.queue('q').add('pushed');
          await waitFor(() => seen.length === 1, 20_000, 'the pushed job');
        },
        { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000 },
      ));

    it('runs a delayed job when its timer falls due', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        const seen: unknown[] = [];
        api.queue('q').work(async (job) => void seen.push(job.payload));
        await api.queue('q').add('later', { delayMs: 5000 });
        await clock.advance(4990);
        await settled();
        assert.deepEqual(seen, []);
        await clock.advance(10);
        await waitFor(() => seen.length === 1, 20_000, 'the delayed job');
      }, { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000 }));

    it('extends the lease while a long handler runs, so it is not redelivered', () =>
      withHarness(target, async ({ api, clock, settled }) => {
        await api.queue('q').configure({ visibilityTimeoutMs: 1000 });
        const started = deferred();
        const finish = deferred();
        let runs = 0;
        api.queue('q').work(async () => {
          runs++;
          started.resolve();
          await finish.promise;
        });
        const job = await api.queue('q').add({});
        await started.promise;
        for (let i = 0; i < 50; i++) {
          // 5 s of lease time, five visibility timeouts; each extension is answered before time moves on.
          await clock.advance(100);
          await settled();
        }
        const active = await api.get(job.id);
        assert.equal(active.state, 'active');
        assert.ok(active.leaseExpiresAt! > clock.now());
        finish.resolve();
        await waitFor(async () => (await api.get(job.id)).state === 'completed');
        assert.equal(runs, 1);
        assert.equal((await api.get(job.id)).history.length, 1);
      }));

    it('aborts the handler through its signal when the job is cancelled', () =>
      withHarness(target, async ({ api, settled }) => {
        const started = deferred();
        let reason: unknown;
        const worker = api.queue('q').work(async (_job, { signal }) => {
          started.resolve();
          throw (reason = await aborted(signal));
        });
        const errors: unknown[] = [];
        worker.on('error', (e) => errors.push(e));
        const job = await api.queue('q').add({});
        await started.promise;
        await api.cancel(job.id);
        await waitFor(() => reason !== undefined, 20_000, 'the abort');
        assert.ok(reason instanceof StaleLeaseError);
        await settled(); // a nack the worker wrongly sent would have been answered (and refused) by now
        assert.equal((await api.get(job.id)).state, 'cancelled');
        assert.deepEqual(errors, [], 'a cancelled job is not nacked afterwards');
      }));

    it('retries failures, dead-letters after maxAttempts, and skips retries on UnrecoverableError', () =>
      withHarness(target, async ({ api }) => {
        await api.queue('q').configure({ maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 } });
        const attempts = new Map<string, number>();
        const failed: string[] = [];
        const worker = api.queue<string>('q').work(async (job) => {
          attempts.set(job.payload, job.attempt);
          if (job.payload === 'fatal') throw new UnrecoverableError('cannot ever work');
          throw new Error('flaky');
        });
        worker.on('failed', (_job, _err, state) => failed.push(state));
        const flaky = await api.queue('q').add('flaky');
        const fatal = await api.queue('q').add('fatal');
        await waitFor(async () => (await api.get(flaky.id)).state === 'dead' && (await api.get(fatal.id)).state === 'dead');
        assert.equal(attempts.get('flaky'), 3);
        assert.equal(attempts.get('fatal'), 1);
        assert.equal((await api.get(fatal.id)).deadReason, 'unrecoverable');
        assert.equal(failed.filter((s) => s === 'dead').length, 2);
      }));

    it('graceful stop waits for running handlers that finish in time', () =>
      withHarness(target, async ({ api }) => {
        const started = deferred();
        const worker = api.queue('q').work(async () => {
          started.resolve();
          await new Promise((r) => setTimeout(r, 30));
          return 'done';
        });
        const job = await api.queue('q').add({});
        await started.promise;
        await worker.close({ timeoutMs: 5000 });
        const after = await api.get(job.id);
        assert.equal(after.state, 'completed');
        assert.equal(after.result, 'done');
      }));

    it('a worker stopped gracefully mid-job releases it and leaves the attempt count unchanged', () =>
      withHarness(target, async ({ api }) => {
        const started = deferred();
        let reason: unknown;
        const worker = api.queue('q').work(async (_job, { signal }) => {
          started.resolve();
          reason = await aborted(signal);
          return 'too late';
        });
        const job = await api.queue('q').add({});
        await started.promise;
        assert.equal((await api.get(job.id)).attempt, 1);
        await worker.close({ timeoutMs: 20 });
        assert.ok(reason instanceof WorkerShutdownError);
        const released = await api.get(job.id);
        assert.equal(released.state, 'ready');
        assert.equal(released.attempt, 0, 'the released attempt is not counted');
        assert.deepEqual(released.history.map((h) => h.outcome), ['released']);
        // Another worker takes it as attempt 1.
        const seen: number[] = [];
        api.queue('q').work(async (j) => void seen.push(j.attempt));
        await waitFor(() => seen.length === 1);
        assert.deepEqual(seen, [1]);
      }));

    it('a worker closed mid-drain leaves no job leased and loses none', () =>
      withHarness(target, async ({ api }) => {
        const q = api.queue('q');
        await q.addMany(Array.from({ length: 3000 }, (_, i) => ({ payload: i })));
        let done = 0;
        const reached = deferred();
        const worker = q.work(async () => {
          if (++done === 500) reached.resolve();
        }, { concurrency: 64 });
        await reached.promise;
        await worker.close();
        await waitFor(async () => (await q.stats()).counts.active === 0, 20_000, 'no leased jobs');
        const s = await q.stats();
        assert.equal(s.counts.completed + s.counts.ready, 3000);
        assert.equal(s.counts.completed, done);
        const ready = await q.list({ state: 'ready', limit: 1000 });
        for (const j of ready) assert.equal(j.attempt, 0, 'handed back without counting an attempt');
      }));

    it('closing the Spool stops its workers first', () =>
      withHarness(target, async ({ api }) => {
        const worker = api.queue('q').work(async () => {});
        await api.close();
        await worker.closed;
        assert.equal(api.isClosed, true);
        await assert.rejects(api.queue('q').add({}), /closed/);
        for (const call of [() => api.stats(), () => api.list('q'), () => api.get('01900000-0000-7000-8000-000000000000')]) {
          await assert.rejects(call(), (e: Error) => (e as unknown as { code: string }).code === 'CLOSED');
        }
      }));
  });
}
