/**
 * End-to-end tests of `spool wait` (and `spool add --ttl`): the real CLI as child processes, on
 * a SQLite store and through a broker in this process; the jobs are run by an engine in this
 * process on the same store.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Spool, type Job } from '../src/index.ts';
import { startBroker } from '../src/server/broker.ts';
import { ManualClock } from '../src/core/clock.ts';
import { EXIT } from '../src/cli/exit-codes.ts';
import { Running, ok, okJson, spool, tempDir } from './support/cli.ts';

delete process.env.SPOOL_URL;
delete process.env.SPOOL_TOKEN;

const quiet = { onError: () => {}, log: () => {}, maintenance: false } as const;

/** An engine on the store in `dir`, closed when the test ends. */
async function engineOn(t: TestContext, dir: string): Promise<Spool> {
  const engine = await Spool.open({ store: join(dir, 'data'), ...quiet });
  t.after(() => engine.close());
  return engine;
}

/** Runs every ready job of `queue` to completion through `engine`. */
async function runAll(engine: Spool, queue: string): Promise<void> {
  for (const job of await engine.claim(queue, 100)) await engine.ack({ jobId: job.id, token: job.leaseToken });
}

for (const via of ['store', 'broker'] as const) {
  test(`spool wait through a ${via}: exits 0 once the queue is drained, 6 with what is left when --timeout runs out`, async (t) => {
    const dir = tempDir(t);
    const store = ['--store', join(dir, 'data')];
    await ok(dir, ['add', 'q', '{"n":1}', ...store]);
    const engine = await engineOn(t, dir);
    let where = store;
    if (via === 'broker') {
      const broker = await startBroker(engine, { port: 0 });
      t.after(() => broker.close());
      where = ['--url', broker.url];
    }

    const late = await spool(dir, ['wait', 'q', '--timeout', '300ms', ...where]);
    assert.equal(late.code, EXIT.TIMED_OUT);
    assert.equal(late.stderr, 'spool: queue "q" was not drained within 300 ms: 1 ready, 0 scheduled, 0 active\n');
    assert.equal(late.stdout, '');

    const waiting = new Running(t, dir, ['wait', 'q', '--timeout', '20s', ...where]);
    await runAll(engine, 'q');
    const done = await waiting.exited;
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout, 'queue q drained\n');
    assert.deepEqual(await okJson(dir, ['wait', 'q', ...where]), { queue: 'q', drained: true });

    const missing = await spool(dir, ['wait', 'nope', ...where]);
    assert.equal(missing.code, EXIT.NOT_FOUND);
    for (const [args, message] of [
      [['--timeout', '2x'], /--timeout must be a whole number of milliseconds, or with a unit/],
      [['--timeout', '2h'], /--timeout must be at most 3600000 \(got 7200000\)/],
    ] as const) {
      const r = await spool(dir, ['wait', 'q', ...args, ...where]);
      assert.equal(r.code, EXIT.USAGE, r.stderr);
      assert.match(r.stderr, message);
    }
  });
}

test('spool add --ttl sets the job\'s start deadline; a claim after it finds the job dead, expired', async (t) => {
  const dir = tempDir(t);
  const store = ['--store', join(dir, 'data')];
  const job = await okJson<Job>(dir, ['add', 'q', '{"n":1}', '--ttl', '1s', ...store]);
  assert.equal(job.expiresAt, job.createdAt + 1000);
  const plain = await okJson<Job>(dir, ['add', 'q', '{"n":2}', '--ttl', '250', ...store]);
  assert.equal(plain.expiresAt, plain.createdAt + 250);
  for (const [ttl, message] of [['soon', /--ttl must be a whole number of milliseconds/], ['400d', /ttlMs must be at most 31536000000/]] as const) {
    const r = await spool(dir, ['add', 'q', '1', '--ttl', ttl, ...store]);
    assert.equal(r.code, EXIT.USAGE, r.stderr);
    assert.match(r.stderr, message);
  }
  // An engine whose clock is past both deadlines (the CLI's adds took the system clock's time).
  const engine = await Spool.open({ store: join(dir, 'data'), ...quiet, clock: new ManualClock(Date.now() + 5000) });
  t.after(() => engine.close());
  assert.deepEqual(await engine.claim('q', 10), []);
  const dead = await engine.get(job.id);
  assert.deepEqual([dead.state, dead.deadReason, dead.lastError], ['dead', 'expired', 'expired: not started within ttlMs']);
});
