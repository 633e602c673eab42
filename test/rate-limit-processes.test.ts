// Two processes on one store (two engines on one PostgreSQL schema, and on one SQLite file),
// each with its own workers on a rate-limited queue: together they never start more jobs than
// the limit allows, counted on a shared manual clock. Both wake at the next token on their own
// (no fallback poll within the test's time). Then the same with two real worker processes on
// PostgreSQL, on the machine's clock, held to a bound that a slow machine only makes looser.
import { CLOCK_READING_MAX_RTT_MS } from '../src/core/shared-clock.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../src/core/clock.ts';
import type { Job } from '../src/core/job.ts';
import { Spool } from '../src/engine/spool.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { waitFor } from '../src/store/conformance/worker.ts';
import { startFixture } from './support/child.ts';
import { tracked } from './support/tracked-store.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

type SharedStores = () => Promise<{ a: Store; b: Store; cleanup: () => void }>;

const stores: Record<string, SharedStores> = {
  postgres: async () => {
    const schema = uniqueSchema();
    const a = await openPostgresStore({ url: testPgUrl(), schema, poolSize: 4 });
    const b = await openPostgresStore({ url: testPgUrl(), schema, poolSize: 4 });
    return { a, b, cleanup: () => {} };
  },
  'sqlite file': async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-rate-'));
    const path = join(dir, 'spool.db');
    return { a: openSqliteStore({ path }), b: openSqliteStore({ path }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
};


const RATE = 3;
const PER_MS = 1000;
const BURST = 4;

/** The most starts within any window of PER_MS (closed at both ends). */
function busiestWindow(starts: number[]): number {
  return Math.max(0, ...starts.map((s) => starts.filter((t) => t >= s && t <= s + PER_MS).length));
}

for (const [name, open] of Object.entries(stores)) {
  describe(`rate limits across processes (${name})`, () => {
    async function withTwo(fn: (spools: [Spool, Spool], clock: ManualClock, quiet: () => Promise<void>) => Promise<void>): Promise<void> {
      const { a: storeA, b: storeB, cleanup } = await open();
      const clock = new ManualClock();
      const options = { clock, maintenance: false, pollIntervalMs: 60_000, onError: () => {} } as const;
      const [ta, tb] = [tracked(storeA), tracked(storeB)];
      const a = await Spool.open({ ...options, store: ta });
      const b = await Spool.open({ ...options, store: tb });
      const quiet = async () => {
        for (let i = 0; i < 3; i++) await Promise.all([ta.quiet(), tb.quiet()]); // an ack returns a credit, whose claim is the next call
      };
      try {
        await fn([a, b], clock, quiet);
      } finally {
        await b.close();
        await a.close();
        cleanup();
      }
    }

    /** Subscribes `subs` consumers of `queue` on `spool`, each acking what it gets at once; records the clock time of each delivery. */
    function consume(spool: Spool, queue: string, clock: ManualClock, starts: number[], subs = 3): void {
      for (let i = 0; i < subs; i++) {
        const sub = spool.subscribe(queue, {
          deliver: (jobs: Job[]) => {
            for (const job of jobs) {
              starts.push(clock.now());
              void spool.ack({ jobId: job.id, token: job.leaseToken }).then(() => sub.addCredits(1));
            }
          },
          revoke: () => {},
        });
        sub.addCredits(20);
      }
    }

    it('two engines on one queue never start more than rate + burst jobs in any window of perMs, and keep to the rate', () =>
      withTwo(async ([a, b], clock, quiet) => {
        await a.queue('q').configure({ rateLimit: { rate: RATE, perMs: PER_MS, burst: BURST } });
        await a.queue('q').addMany(Array.from({ length: 200 }, (_, i) => ({ payload: i })));
        const [fromA, fromB] = [[] as number[], [] as number[]];
        consume(a, 'q', clock, fromA);
        consume(b, 'q', clock, fromB);
        await quiet();
        const stepMs = 50;
        const runMs = 10_000;
        for (let moved = 0; moved < runMs; moved += stepMs) {
          await clock.advance(stepMs);
          await quiet();
        }
        const all = [...fromA, ...fromB].sort((x, y) => x - y);
        assert.ok(busiestWindow(all) <= RATE + BURST, `busiest window: ${busiestWindow(all)} starts`);
        // The bucket: BURST at once, then RATE per PER_MS: every token is used (the queue never runs dry).
        assert.equal(all.length, BURST + (RATE * runMs) / PER_MS, `${all.length} starts in ${runMs} ms (A ${fromA.length}, B ${fromB.length})`);
        const { counts } = (await b.stats('q'))[0]!;
        assert.deepEqual([counts.dead, counts.completed, counts.ready], [0, all.length, 200 - all.length], 'the rest wait, ready');
      }));

    it('queues of two engines sharing a limiter draw on one bucket', () =>
      withTwo(async ([a, b], clock, quiet) => {
        const limit = { rate: RATE, perMs: PER_MS, burst: BURST, limiter: 'smtp' };
        await a.queue('welcome').configure({ rateLimit: limit });
        await b.queue('digest').configure({ rateLimit: limit });
        await a.queue('welcome').addMany(Array.from({ length: 50 }, (_, i) => ({ payload: i })));
        await b.queue('digest').addMany(Array.from({ length: 50 }, (_, i) => ({ payload: i })));
        const [fromA, fromB] = [[] as number[], [] as number[]];
        consume(a, 'welcome', clock, fromA);
        consume(b, 'digest', clock, fromB);
        await quiet();
        for (let moved = 0; moved < 5000; moved += 50) {
          await clock.advance(50);
          await quiet();
        }
        const all = [...fromA, ...fromB].sort((x, y) => x - y);
        assert.ok(busiestWindow(all) <= RATE + BURST, `busiest window: ${busiestWindow(all)} starts`);
        assert.ok(all.length <= BURST + (RATE * 5000) / PER_MS, `${all.length} starts`);
        assert.ok(fromA.length > 0 && fromB.length > 0, `both queues ran (welcome ${fromA.length}, digest ${fromB.length})`);
      }));
  });
}

describe('rate limits across real processes (postgres)', () => {
  it('two worker processes together start no more than burst + rate · elapsed jobs at any moment', { timeout: 120_000 }, async (t) => {
    const url = testPgUrl();
    const schema = uniqueSchema('rate');
    const parent = await Spool.open({ store: url, schema, maintenance: false });
    const rate = 20;
    const burst = 5;
    const jobs = 60;
    await parent.queue('work').configure({ rateLimit: { rate, perMs: 1000, burst } });
    const workers = [0, 1].map(() => startFixture('pg-worker.ts', [url, schema, 'work', '10', '1000', '0']));
    t.after(async () => {
      for (const w of workers) w.child.kill('SIGKILL');
      await parent.close();
    });
    await waitFor(() => workers.every((w) => w.lines.includes('ready')), 60_000, 'workers to start');
    // The bucket is made, full, by the first take, which follows this instant: by any time s, at
    // most burst + rate · (s − t0) / 1000 jobs can have been leased, so at most that many started.
    // A slower run only loosens the bound; two processes that did not share the bucket would
    // start up to twice that as soon as they both ran.
    const t0 = Date.now();
    await parent.queue('work').addMany(Array.from({ length: jobs }, (_, i) => ({ payload: i })));
    const starts = () => workers.flatMap((w) => w.lines.filter((l) => l.startsWith('start ')).map((l) => Number(l.split(' ')[3])));
    await waitFor(() => workers.reduce((n, w) => n + w.lines.filter((l) => l.startsWith('acked ')).length, 0) >= jobs, 60_000, `${jobs} jobs acked`);
    const all = starts().sort((a, b) => a - b);
    assert.equal(all.length, jobs, 'each job started once');
    // The bucket runs on Spool's time, which on PostgreSQL is the database server's clock as each
    // process last read it: within half a used reading's round trip of it (shared-clock.ts). The
    // starts are stamped on this machine's clock, so the bound allows that much disagreement: a
    // 2.5 tokens at this rate, where two processes not sharing the bucket would start twice as many.
    const agreementMs = CLOCK_READING_MAX_RTT_MS / 2;
    all.forEach((s, i) => {
      const bound = burst + (rate * (s - t0 + agreementMs)) / 1000;
      assert.ok(i + 1 <= bound, `${i + 1} jobs started by ${s - t0} ms, more than the bucket allows (${bound.toFixed(1)})`);
    });
    const per = workers.map((w) => w.lines.filter((l) => l.startsWith('start ')).length);
    assert.equal(per[0]! + per[1]!, jobs, `started per process: ${per.join(', ')}`);
  });
});
