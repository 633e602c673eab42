import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StaleLeaseError, UnrecoverableError } from '../../core/errors.ts';
import { WorkerShutdownError } from '../../worker/worker.ts';
import { withHarness, type StoreFactory } from './harness.ts';

/** Waits until `cond()` holds, checking after each turn of the event loop; fails after `timeoutMs` of real time. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
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

export function workerSuite(factory: StoreFactory): void {
  describe('worker runtime', () => {
    it('runs every job, never more than `concurrency` at once', () =>
      withHarness(factory, async ({ spool }) => {
        const q = spool.queue<number>('q');
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
        await waitFor(async () => (await q.stats()).counts.completed === 20, 5000, '20 completions');
        assert.equal(peak, 3);
        assert.deepEqual(done.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
        const [first] = await q.list({ state: 'completed', limit: 1 });
        assert.equal(first!.result, (first!.payload as number) * 2);
      }));

    it('is pushed new jobs without polling', () =>
      withHarness(
        factory,
        async ({ spool }) => {
          const seen: unknown[] = [];
          spool.queue('q').work(async (job) => void seen.push(job.payload));
          await new Promise((r) => setTimeout(r, 20));
          await spool.queue('q').add('pushed');
          await waitFor(() => seen.length === 1, 2000, 'the pushed job');
        },
        { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000 },
      ));

    it('runs a delayed job when its timer falls due', () =>
      withHarness(factory, async ({ spool, clock }) => {
        const seen: unknown[] = [];
        spool.queue('q').work(async (job) => void seen.push(job.payload));
        await spool.queue('q').add('later', { delayMs: 5000 });
        await clock.advance(4990);
        assert.deepEqual(seen, []);
        await clock.advance(10);
        await waitFor(() => seen.length === 1, 2000, 'the delayed job');
      }, { pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000 }));

    it('extends the lease while a long handler runs, so it is not redelivered', () =>
      withHarness(factory, async ({ spool, clock }) => {
        await spool.queue('q').configure({ visibilityTimeoutMs: 1000 });
        const started = deferred();
        const finish = deferred();
        let runs = 0;
        spool.queue('q').work(async () => {
          runs++;
          started.resolve();
          await finish.promise;
        });
        const job = await spool.queue('q').add({});
        await started.promise;
        for (let i = 0; i < 50; i++) await clock.advance(100); // 5 s of lease time, five visibility timeouts
        const active = await spool.get(job.id);
        assert.equal(active.state, 'active');
        assert.ok(active.leaseExpiresAt! > clock.now());
        finish.resolve();
        await waitFor(async () => (await spool.get(job.id)).state === 'completed');
        assert.equal(runs, 1);
        assert.equal((await spool.get(job.id)).history.length, 1);
      }));

    it('aborts the handler through its signal when the job is cancelled', () =>
      withHarness(factory, async ({ spool }) => {
        const started = deferred();
        let reason: unknown;
        const worker = spool.queue('q').work(async (_job, { signal }) => {
          started.resolve();
          throw (reason = await aborted(signal));
        });
        const errors: unknown[] = [];
        worker.on('error', (e) => errors.push(e));
        const job = await spool.queue('q').add({});
        await started.promise;
        await spool.cancel(job.id);
        await waitFor(() => reason !== undefined, 2000, 'the abort');
        assert.ok(reason instanceof StaleLeaseError);
        await new Promise((r) => setTimeout(r, 20));
        assert.equal((await spool.get(job.id)).state, 'cancelled');
        assert.deepEqual(errors, [], 'a cancelled job is not nacked afterwards');
      }));

    it('retries failures, dead-letters after maxAttempts, and skips retries on UnrecoverableError', () =>
      withHarness(factory, async ({ spool }) => {
        await spool.queue('q').configure({ maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 } });
        const attempts = new Map<string, number>();
        const failed: string[] = [];
        const worker = spool.queue<string>('q').work(async (job) => {
          attempts.set(job.payload, job.attempt);
          if (job.payload === 'fatal') throw new UnrecoverableError('cannot ever work');
          throw new Error('flaky');
        });
        worker.on('failed', (_job, _err, state) => failed.push(state));
        const flaky = await spool.queue('q').add('flaky');
        const fatal = await spool.queue('q').add('fatal');
        await waitFor(async () => (await spool.get(flaky.id)).state === 'dead' && (await spool.get(fatal.id)).state === 'dead');
        assert.equal(attempts.get('flaky'), 3);
        assert.equal(attempts.get('fatal'), 1);
        assert.equal((await spool.get(fatal.id)).deadReason, 'unrecoverable');
        assert.equal(failed.filter((s) => s === 'dead').length, 2);
      }));

    it('graceful stop waits for running handlers that finish in time', () =>
      withHarness(factory, async ({ spool }) => {
        const started = deferred();
        const worker = spool.queue('q').work(async () => {
          started.resolve();
          await new Promise((r) => setTimeout(r, 30));
          return 'done';
        });
        const job = await spool.queue('q').add({});
        await started.promise;
        await worker.close({ timeoutMs: 5000 });
        const after = await spool.get(job.id);
        assert.equal(after.state, 'completed');
        assert.equal(after.result, 'done');
      }));

    it('a worker stopped gracefully mid-job releases it and leaves the attempt count unchanged', () =>
      withHarness(factory, async ({ spool }) => {
        const started = deferred();
        let reason: unknown;
        const worker = spool.queue('q').work(async (_job, { signal }) => {
          started.resolve();
          reason = await aborted(signal);
          return 'too late';
        });
        const job = await spool.queue('q').add({});
        await started.promise;
        assert.equal((await spool.get(job.id)).attempt, 1);
        await worker.close({ timeoutMs: 20 });
        assert.ok(reason instanceof WorkerShutdownError);
        const released = await spool.get(job.id);
        assert.equal(released.state, 'ready');
        assert.equal(released.attempt, 0, 'the released attempt is not counted');
        assert.deepEqual(released.history.map((h) => h.outcome), ['released']);
        // Another worker takes it as attempt 1.
        const seen: number[] = [];
        spool.queue('q').work(async (j) => void seen.push(j.attempt));
        await waitFor(() => seen.length === 1);
        assert.deepEqual(seen, [1]);
      }));

    it('a worker closed mid-drain leaves no job leased and loses none', () =>
      withHarness(factory, async ({ spool }) => {
        const q = spool.queue('q');
        await q.addMany(Array.from({ length: 3000 }, (_, i) => ({ payload: i })));
        let done = 0;
        const reached = deferred();
        const worker = q.work(async () => {
          if (++done === 500) reached.resolve();
        }, { concurrency: 64 });
        await reached.promise;
        await worker.close();
        await waitFor(async () => (await q.stats()).counts.active === 0, 2000, 'no leased jobs');
        const s = await q.stats();
        assert.equal(s.counts.completed + s.counts.ready, 3000);
        assert.equal(s.counts.completed, done);
        const ready = await q.list({ state: 'ready', limit: 1000 });
        for (const j of ready) assert.equal(j.attempt, 0, 'handed back without counting an attempt');
      }));

    it('closing the Spool stops its workers first', () =>
      withHarness(factory, async ({ spool }) => {
        const worker = spool.queue('q').work(async () => {});
        await spool.close();
        await worker.closed;
        assert.equal(spool.isClosed, true);
        await assert.rejects(spool.queue('q').add({}), /closed/);
        for (const call of [() => spool.stats(), () => spool.list('q'), () => spool.get('01900000-0000-7000-8000-000000000000')]) {
          await assert.rejects(call(), (e: Error) => (e as unknown as { code: string }).code === 'CLOSED');
        }
      }));
  });
}
