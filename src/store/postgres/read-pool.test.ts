import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { StoreUnavailableError } from '../../core/errors.ts';
import { newJobId } from '../../core/ids.ts';
import { openPostgresStore } from './postgres-store.ts';

describe('PostgreSQL operator reads: their own connections, with a statement timeout', () => {
  it('a stats read stuck behind a lock is cancelled after readTimeoutMs with a clear error, while claims and acks go on', async () => {
    const schema = uniqueSchema('reads');
    // One connection for claims and acks: if the stuck reads took it, the claim below would wait for them.
    const store = await openPostgresStore({ url: testPgUrl(), schema, poolSize: 1, notify: false, readTimeoutMs: 300 });
    const sql = postgres(testPgUrl(), { max: 1, onnotice: () => {} });
    try {
      const now = Date.now();
      await store.jobsInsertMany([{ id: newJobId(now), queue: 'q', name: 'n', payload: '{}', priority: 0, runAt: now, state: 'ready', maxAttempts: 3, maxStalls: 3, timeoutMs: 0, trace: null, group: null, createdAt: now }]);
      await sql.begin(async (tx) => {
        // Nothing may read the counts until this transaction ends: the reads wait for the lock.
        await tx.unsafe(`LOCK TABLE ${schema}.queue_counts IN ACCESS EXCLUSIVE MODE`);
        const stuck = [store.queueStats(null, now), store.queueStats('q', now), store.queueStats(null, now)].map((p) => p.then(() => null, (err: unknown) => err));
        const [job] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 30_000, now });
        assert.ok(job, 'the claim did not wait for the stuck reads');
        assert.deepEqual(await store.jobsComplete([{ lease: { jobId: job.id, token: job.leaseToken }, result: null }], now), [{ ok: true }]);
        for (const err of await Promise.all(stuck)) {
          assert.ok(err instanceof StoreUnavailableError, String(err));
          assert.match(err.message, /cannot read queue stats: PostgreSQL cancelled it \(canceling statement due to statement timeout\): an operator read may run for readTimeoutMs at most/);
        }
      });
      assert.equal((await store.queueStats('q', now))[0]!.counts.completed, 1, 'reads work again once the lock is gone');
    } finally {
      await sql.end();
      await store.close();
    }
  });
});
