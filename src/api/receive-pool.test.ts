import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Job } from '../core/job.ts';
import { Spool } from '../engine/spool.ts';
import type { OperationHost } from './operations.ts';
import { claimPooled } from './receive-pool.ts';

/** A Spool on a real SQLite file whose claims are recorded (their limits) and can be held at a gate before they run. */
async function openCounted(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'spool-pool-'));
  const spool = await Spool.open({ store: join(dir, 'spool.db'), maintenanceIntervalMs: 60_000, pollIntervalMs: 60_000 });
  t.after(async () => {
    await spool.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const limits: number[] = [];
  let gate: Promise<void> | null = null;
  const host = new Proxy(spool, {
    get(target, key) {
      if (key === 'claim') {
        return async (queue: string, limit: number, options?: { tags?: readonly string[] }) => {
          limits.push(limit);
          if (gate) await gate;
          return target.claim(queue, limit, options);
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as OperationHost;
  return {
    spool, host, limits,
    /** Holds the next claims until the returned function is called. */
    hold(): () => void {
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => {
        gate = null;
        open();
      };
    },
  };
}

const ids = (jobs: readonly Job[]) => jobs.map((j) => j.id);
const live = () => new AbortController().signal;

test('concurrent receives of a queue are one claim, each gets its own jobs, none is leased to nobody', async (t) => {
  const { spool, host, limits } = await openCounted(t);
  await spool.queue('q').addMany(Array.from({ length: 25 }, (_, i) => ({ payload: i })));
  const got = await Promise.all([claimPooled(host, 'q', 10, live()), claimPooled(host, 'q', 10, live()), claimPooled(host, 'q', 3, live())]);
  assert.deepEqual(limits, [23], 'one claim, for the sum of what the receives asked');
  assert.deepEqual(got.map((g) => g.length), [10, 10, 3]);
  assert.equal(new Set(got.flatMap(ids)).size, 23, 'no job went to two receives');
  const [stats] = await spool.stats('q');
  assert.deepEqual([stats!.counts.active, stats!.counts.ready], [23, 2], 'the claim leased what was handed out, no more');
});

test('when fewer jobs are ready than asked for, the earlier receives are served first and the rest get none', async (t) => {
  const { spool, host, limits } = await openCounted(t);
  await spool.queue('q').addMany(Array.from({ length: 12 }, (_, i) => ({ payload: i })));
  const got = await Promise.all([claimPooled(host, 'q', 10, live()), claimPooled(host, 'q', 10, live()), claimPooled(host, 'q', 10, live())]);
  assert.deepEqual(limits, [30]);
  assert.deepEqual(got.map((g) => g.length), [10, 2, 0]);
  assert.equal((await spool.stats('q'))[0]!.counts.active, 12);
});

test('a receive whose caller leaves before its round counts for nothing in the claim', async (t) => {
  const { spool, host, limits } = await openCounted(t);
  await spool.queue('q').addMany(Array.from({ length: 20 }, (_, i) => ({ payload: i })));
  const gone = new AbortController();
  const pending = [claimPooled(host, 'q', 10, live()), claimPooled(host, 'q', 10, gone.signal), claimPooled(host, 'q', 4, live())];
  gone.abort();
  const got = await Promise.all(pending);
  assert.deepEqual(limits, [14], 'the claim asked for the receives still waiting');
  assert.deepEqual(got.map((g) => g.length), [10, 0, 4]);
  assert.deepEqual(await claimPooled(host, 'q', 10, gone.signal), [], 'an aborted receive takes nothing');
  assert.equal((await spool.stats('q'))[0]!.counts.active, 14);
});

test("a receive whose caller leaves while the claim is in flight has its share given back to the queue", async (t) => {
  const { spool, host, limits, hold } = await openCounted(t);
  await spool.queue('q').addMany(Array.from({ length: 20 }, (_, i) => ({ payload: i })));
  const open = hold();
  const gone = new AbortController();
  const pending = [claimPooled(host, 'q', 5, live()), claimPooled(host, 'q', 10, gone.signal)];
  while (limits.length === 0) await new Promise((resolve) => setImmediate(resolve)); // the round's claim has started
  gone.abort();
  open();
  const got = await Promise.all(pending);
  assert.deepEqual(limits, [15]);
  assert.deepEqual(got.map((g) => g.length), [5, 0]);
  // The given-back share is ready again (the release is asynchronous: wait for it, failing if it never comes).
  for (const deadline = Date.now() + 20_000; ; ) {
    const { counts } = (await spool.stats('q'))[0]!;
    if (counts.active === 5) {
      assert.equal(counts.ready, 15);
      break;
    }
    assert.ok(Date.now() < deadline, `the share was not given back: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const again = await claimPooled(host, 'q', 20, live());
  assert.equal(again.length, 15, 'the jobs given back can be received');
  assert.ok(!again.some((j) => ids(got[0]!).includes(j.id)));
});

test('a claim that fails fails every receive of its round, and the next round claims again', async (t) => {
  const { spool, host, limits } = await openCounted(t);
  await spool.queue('q').add('x');
  await spool.setPaused('q', true);
  // A paused queue is not an error: the round takes nothing; a bad queue name is, for every receive of the round.
  assert.deepEqual(await Promise.all([claimPooled(host, 'q', 1, live()), claimPooled(host, 'q', 1, live())]), [[], []]);
  const bad = [claimPooled(host, 'no such name!', 1, live()), claimPooled(host, 'no such name!', 2, live())];
  for (const p of bad) await assert.rejects(p, /queue/i);
  await spool.setPaused('q', false);
  assert.equal((await claimPooled(host, 'q', 5, live())).length, 1);
  assert.deepEqual(limits, [2, 3, 5]);
});
