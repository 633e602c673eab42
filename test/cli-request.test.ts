/**
 * End-to-end tests of `spool request`: the real CLI as a child process, on a SQLite store and
 * through a broker in this process; the jobs are run (or failed) by an engine in this process
 * on the same store.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Spool, type Job } from '../src/index.ts';
import { startBroker } from '../src/server/broker.ts';
import { EXIT } from '../src/cli/exit-codes.ts';
import { Running, spool, tempDir } from './support/cli.ts';

delete process.env.SPOOL_URL;
delete process.env.SPOOL_TOKEN;

const quiet = { onError: () => {}, log: () => {}, maintenance: false } as const;

/** The next job of `queue` the CLI added, leased by `engine` (waits for the add to land). */
async function next(engine: Spool, queue: string): Promise<Job> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [job] = await engine.claim(queue, 1);
    if (job) return job;
    if (Date.now() > deadline) throw new Error('the CLI never added its job');
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const via of ['store', 'broker'] as const) {
  test(`spool request through a ${via}: prints the result; exit 4 for a dead job; exit 6 saying it had not started`, async (t) => {
    const dir = tempDir(t);
    const engine = await Spool.open({ store: join(dir, 'data'), ...quiet });
    t.after(() => engine.close());
    let where = ['--store', join(dir, 'data')];
    if (via === 'broker') {
      const broker = await startBroker(engine, { port: 0 });
      t.after(() => broker.close());
      where = ['--url', broker.url];
    }

    const asked = new Running(t, dir, ['request', 'sum', '{"items":[1,2,3]}', '--timeout', '60s', '--priority', '2', ...where]);
    const job = await next(engine, 'sum');
    assert.deepEqual([job.payload, job.priority], [{ items: [1, 2, 3] }, 2]);
    await engine.ack({ jobId: job.id, token: job.leaseToken }, { total: 6 });
    const done = await asked.exited;
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout, '{"total":6}\n');

    const failing = new Running(t, dir, ['request', 'sum', '{"items":[]}', '--timeout', '60s', ...where]);
    const bad = await next(engine, 'sum');
    await engine.nack({ jobId: bad.id, token: bad.leaseToken }, new Error('nothing to sum'), { unrecoverable: true });
    const failed = await failing.exited;
    assert.equal(failed.code, EXIT.INVALID_STATE, failed.stderr);
    assert.match(failed.stderr, new RegExp(`job ${bad.id} ended dead: .*nothing to sum`));

    const late = await spool(dir, ['request', 'idle', '1', '--timeout', '300ms', ...where]);
    assert.equal(late.code, EXIT.TIMED_OUT, late.stderr);
    assert.match(late.stderr, /did not finish within 300 ms: it is ready \(not started\); it was not cancelled/);
    assert.equal((await engine.stats('idle'))[0]!.counts.ready, 1, 'the job stays');

    const usage = await spool(dir, ['request', 'sum', '{nope', ...where]);
    assert.equal(usage.code, EXIT.USAGE, usage.stderr);
  });
}
