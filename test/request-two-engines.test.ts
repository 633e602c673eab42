/**
 * Request/reply across processes sharing one store (a SQLite file, PostgreSQL): one engine
 * requests, another runs the jobs. The requesting engine never settles them, so no in-process
 * event wakes its waits: each is answered by the fallback sweep (every pollIntervalMs), and each
 * request still gets its own job's result or error. The requests wait up to an hour, past the
 * test's own timeout: without the sweep the test fails instead of being saved by a deadline.
 */
import { scratchDir } from './support/scratch.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { JobFailedError, Spool, UnrecoverableError } from '../src/index.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

async function twoEngines(store: string, schema: string): Promise<void> {
  const open = () => Spool.open({ store, ...(schema ? { schema } : {}), pollIntervalMs: 50, onError: () => {} });
  const requester = await open();
  const worker = await open();
  try {
    worker.work<{ i: number }>('rr', async (job) => {
      if (job.payload.i % 5 === 4) throw new UnrecoverableError(`no ${job.payload.i}`);
      return { i: job.payload.i };
    }, { concurrency: 4 });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      requester.request<{ i: number }, { i: number }>('rr', { i }, { timeoutMs: 3_600_000 }).then((r) => r.i, (err: unknown) => err)));
    for (const [i, answer] of answers.entries()) {
      if (i % 5 === 4) {
        assert.ok(answer instanceof JobFailedError, String(answer));
        assert.match(answer.error ?? '', new RegExp(`no ${i}\\b`));
      } else {
        assert.equal(answer, i);
      }
    }
  } finally {
    await requester.close();
    await worker.close();
  }
}

describe('request/reply: one engine requests, another runs the jobs (one store)', () => {
  it('SQLite file: every request gets its own job\'s result or error', { timeout: 120_000 }, () =>
    twoEngines(join(scratchDir('spool-request-two-'), 'two.db'), ''));

  it('PostgreSQL: every request gets its own job\'s result or error', { timeout: 120_000 }, () =>
    twoEngines(testPgUrl(), uniqueSchema('request_two')));
});
