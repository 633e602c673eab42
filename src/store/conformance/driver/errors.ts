import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClosedError, StoreUnavailableError } from '../../../core/errors.ts';
import type { Store } from '../../store.ts';
import { jobId, newRow, NoAnswerError, settlesWithin, T, withStore, workerId, type DriverContext } from './harness.ts';

/** One call of every Store method (the optional ones the store has), with harmless arguments. */
function everyCall(store: Store): [string, () => Promise<unknown>][] {
  const lease = { jobId: jobId(1), token: 1 };
  const calls: [string, (() => Promise<unknown>) | undefined][] = [
    ['jobsInsertMany', () => store.jobsInsertMany([newRow(1)])],
    ['jobsInsertEach', () => store.jobsInsertEach([newRow(2)])],
    ['jobsClaim', () => store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 1000, now: T })],
    ['jobsComplete', () => store.jobsComplete([{ lease, result: null }], T)],
    ['jobsFail', () => store.jobsFail([{ lease, error: 'x', retryAt: T, unrecoverable: false }], T)],
    ['jobsExtend', () => store.jobsExtend([{ lease, leaseMs: 1000 }], T)],
    ['jobsReport', () => store.jobsReport([{ lease, progress: '1', logs: [{ at: T, attempt: 1, line: 'x' }] }], T, 10)],
    ['jobsRelease', () => store.jobsRelease([lease], T)],
    ['jobsCancel', () => store.jobsCancel([jobId(1)], T)],
    ['jobsRetry', () => store.jobsRetry([jobId(1)], T)],
    ['jobsDelete', () => store.jobsDelete([jobId(1)], T)],
    ['jobsReapExpired', () => store.jobsReapExpired({ now: T, limit: 10 })],
    ['jobsPromoteDue', () => store.jobsPromoteDue({ now: T, limit: 10 })],
    ['jobsPurge', () => store.jobsPurge({ queue: 'q', limit: 10 })],
    ['jobsDeleteFinished', () => store.jobsDeleteFinished({ before: { completed: T, dead: T, cancelled: T }, limit: 10 })],
    ['jobsGet', () => store.jobsGet([jobId(1)])],
    ['jobLogs', () => store.jobLogs(jobId(1))],
    ['jobsList', () => store.jobsList({ queue: 'q', limit: 10 })],
    ['jobsNextDueAt', () => store.jobsNextDueAt()],
    ['queueStats', () => store.queueStats(null, T)],
    ['queueUpsert', () => store.queueUpsert('q', { visibilityTimeoutMs: 1000, maxAttempts: 1, maxStalls: 1, backoff: { type: 'fixed', delayMs: 1 }, timeoutMs: 0, rateLimit: null, maxLength: null, overflow: 'reject', policy: 'fifo', agingMs: 1000, sjfCostFactor: 1, sjfLearnPct: 20, fairWeights: {}, concurrencyLimit: null, concurrencyLimits: {}, groupFifo: false, keyRateLimit: null, keyRateLimits: {}, labels: {} }, T)],
    ['queueGet', () => store.queueGet('q')],
    ['queueList', () => store.queueList()],
    ['queueSetPaused', () => store.queueSetPaused('q', true, T)],
    ['queueDelete', () => store.queueDelete({ name: 'q', force: false, limit: 10 }, T)],
    ['tokensInsert', () => store.tokensInsert({ id: 'aaaaaaaaaaaa', name: 'a', hash: 'f'.repeat(64), scopes: ['admin'], createdAt: T })],
    ['tokensList', () => store.tokensList()],
    ['tokensDelete', () => store.tokensDelete(['aaaaaaaaaaaa'])],
    ['tokenGet', () => store.tokenGet('aaaaaaaaaaaa')],
    ['tokensExist', () => store.tokensExist()],
    ['rateLimitRead', () => store.rateLimitRead({ name: 'queue:q', rate: 1, perMs: 1000, burst: 1, now: T })],
    ['rateLimitsDropFull', () => store.rateLimitsDropFull({ now: T, after: '', limit: 10 })],
    ['workerRegister', store.workerRegister && (() => store.workerRegister!({ id: workerId(1), host: 'h', pid: 1 }, T, 1000))],
    ['workerHeartbeat', store.workerHeartbeat && (() => store.workerHeartbeat!(workerId(1), T, 1000))],
    ['workerAnnounce', store.workerAnnounce && (() => store.workerAnnounce!(workerId(1), []))],
    ['workerUnregister', store.workerUnregister && (() => store.workerUnregister!(workerId(1)))],
    ['workersReapDead', store.workersReapDead && (() => store.workersReapDead!({ now: T, limit: 10 }))],
    ['asLeader', store.asLeader && (() => store.asLeader!('duty', workerId(1), 1000, async () => 1))],
    ['leaderResign', store.leaderResign && (() => store.leaderResign!('duty', workerId(1)))],
    ['tablesVacuum', store.tablesVacuum && (() => store.tablesVacuum!())],
    ['jobsShorten', store.jobsShorten && (() => store.jobsShorten!([{ lease, expiresAt: T + 1000, until: T }], T))],
  ];
  return calls.filter((c): c is [string, () => Promise<unknown>] => c[1] !== undefined);
}

/** What each call of a closed store did: the error it rejected with. Fails the test if a call threw at once, resolved or never answered. */
async function refusals(store: Store): Promise<[string, unknown][]> {
  const out: [string, unknown][] = [];
  for (const [name, call] of everyCall(store)) {
    let pending: Promise<unknown>;
    try {
      pending = call();
    } catch (err) {
      assert.fail(`${name} threw at once (${(err as Error)?.message}): every Store method answers with a promise`);
    }
    const error = await settlesWithin(pending, 5000, name).then(
      () => assert.fail(`${name} resolved on a closed store`),
      (err: unknown) => err,
    );
    assert.ok(!(error instanceof NoAnswerError), `${name} on a closed store never answered`);
    out.push([name, error]);
  }
  return out;
}

/** Error translation: closed stores, unreachable and full data. */
export function errorsArea(ctx: DriverContext): void {
  describe('errors', () => {
    it('a closed store refuses every call (each rejects: none resolves, none hangs); closing again is harmless', { skip: ctx.skip('errors') }, () =>
      withStore(ctx, async (store) => {
        await store.jobsInsertMany([newRow(1)]);
        await store.close();
        await store.close();
        for (const [name, error] of await refusals(store)) assert.ok(error instanceof Error, `${name} rejects with an Error, not ${String(error)}`);
      }));

    it('a closed store refuses every call with ClosedError (code CLOSED)', { skip: ctx.skip('closed-error') }, () =>
      withStore(ctx, async (store) => {
        await store.close();
        const wrong = (await refusals(store)).filter(([, error]) => !(error instanceof ClosedError && error.code === 'CLOSED'));
        assert.deepEqual(wrong.map(([name, error]) => `${name}: ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`), []);
      }));

    it('a store on data it cannot reach: its open, or else each call, fails with StoreUnavailableError', { skip: ctx.skip('errors', 'unreachable') }, async () => {
      let store: Store;
      try {
        store = await ctx.factory.unreachable!();
      } catch (err) {
        assert.ok(err instanceof StoreUnavailableError, `StoreUnavailableError, not ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
        assert.equal(err.code, 'STORE_UNAVAILABLE');
        return;
      }
      try {
        const calls: (() => Promise<unknown>)[] = [() => store.jobsInsertMany([newRow(1)]), () => store.jobsGet([jobId(1)])];
        for (const call of calls) {
          await assert.rejects(settlesWithin(call(), 30_000, 'a call'), StoreUnavailableError);
        }
      } finally {
        await store.close();
      }
    });

    it('a store whose data is full: the write that does not fit fails whole with StoreUnavailableError; what was accepted stays', { skip: ctx.skip('errors', 'full') }, async () => {
      const store = await ctx.factory.full!();
      try {
        const pad = 'x'.repeat(1000);
        let accepted = 0;
        let failure: unknown = null;
        for (let batch = 0; batch < 1000 && failure === null; batch++) {
          const rows = Array.from({ length: 20 }, (_, i) => newRow(batch * 20 + i + 1, { payload: JSON.stringify({ pad }) }));
          try {
            await store.jobsInsertMany(rows);
            accepted += rows.length;
          } catch (err) {
            failure = err;
          }
        }
        assert.ok(failure instanceof StoreUnavailableError, `StoreUnavailableError once full, not ${failure === null ? 'no failure in 20,000 rows' : String(failure)}`);
        assert.equal((await store.queueStats('q', T))[0]!.counts.ready, accepted, 'every accepted job, none of the failed batch');
        assert.deepEqual(await store.jobsGet([jobId(accepted + 1)]), [null]);
      } finally {
        await store.close();
      }
    });
  });
}
