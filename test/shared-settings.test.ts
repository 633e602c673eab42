// Two processes on one store (two engines on one SQLite file, two on one PostgreSQL schema):
// a pause or a new setting made through one is obeyed by the other within settingsRefreshMs,
// measured on a shared manual clock.
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
import { tracked } from './support/tracked-store.ts';
import type { Store } from '../src/store/store.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const REFRESH_MS = 1000;

/** Opens two stores on the same data, as two processes would. */
type SharedStores = () => Promise<{ a: Store; b: Store; cleanup: () => void }>;

const stores: Record<string, SharedStores> = {
  'sqlite file': async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-shared-'));
    const path = join(dir, 'spool.db');
    return { a: openSqliteStore({ path }), b: openSqliteStore({ path }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
  postgres: async () => {
    const schema = uniqueSchema();
    const a = await openPostgresStore({ url: testPgUrl(), schema, poolSize: 2 });
    const b = await openPostgresStore({ url: testPgUrl(), schema, poolSize: 2, notify: false });
    return { a, b, cleanup: () => {} };
  },
};


/** Moves the shared clock in steps until `cond` holds, at most `maxMs` of clock time; returns the time moved. */
async function advanceUntil(clock: ManualClock, b: Spool, cond: () => boolean | Promise<boolean>, maxMs: number, stepMs = 100): Promise<number> {
  for (let moved = 0; moved <= maxMs; moved += stepMs) {
    await (b.store as ReturnType<typeof tracked>).quiet();
    if (await cond()) return moved;
    await clock.advance(stepMs);
  }
  throw new Error(`condition not reached within ${maxMs} ms of clock time`);
}

/** Moves the shared clock by `ms` in steps, letting B's poll fire and its store calls answer at each. */
async function runFor(clock: ManualClock, b: Spool, ms: number, stepMs = 100): Promise<void> {
  for (let moved = 0; moved < ms; moved += stepMs) {
    await clock.advance(stepMs);
    await (b.store as ReturnType<typeof tracked>).quiet();
  }
}

for (const [name, open] of Object.entries(stores)) {
  describe(`queue settings changed by another process (${name})`, () => {
    async function withTwo(fn: (a: Spool, b: Spool, clock: ManualClock) => Promise<void>): Promise<void> {
      const { a: storeA, b: storeB, cleanup } = await open();
      const clock = new ManualClock();
      const options = { clock, maintenance: false, pollIntervalMs: 100, settingsRefreshMs: REFRESH_MS, onError: () => {} } as const;
      const a = await Spool.open({ ...options, store: storeA });
      const b = await Spool.open({ ...options, store: tracked(storeB) });
      try {
        await fn(a, b, clock);
      } finally {
        await b.close();
        await a.close();
        cleanup();
      }
    }

    it('a pause through one process stops deliveries in the other within settingsRefreshMs', () =>
      withTwo(async (a, b, clock) => {
        const got: Job[] = [];
        const sub = b.subscribe('q', { deliver: (jobs) => void got.push(...jobs), revoke: () => {} });
        sub.addCredits(10);
        await a.add('q', 'before');
        await advanceUntil(clock, b, () => got.length === 1, 5000);
        for (const job of got) await b.ack({ jobId: job.id, token: job.leaseToken });

        await a.setPaused('q', true);
        // B may trust its copy for REFRESH_MS (a claim it admitted in that time may still be
        // running); a job added after that must never reach it.
        await runFor(clock, b, REFRESH_MS);
        await a.add('q', 'while paused');
        await runFor(clock, b, 3 * REFRESH_MS);
        assert.equal(got.length, 1, 'B delivered a job of a queue paused through A');
        assert.equal((await b.queue('q').stats()).counts.ready, 1);

        await a.setPaused('q', false);
        const waited = await advanceUntil(clock, b, () => got.length === 2, REFRESH_MS + 500);
        assert.ok(waited <= REFRESH_MS + 200, `resumed after ${waited} ms`);
        sub.close();
      }));

    it('a new visibility timeout set through one process is used by the other within settingsRefreshMs', () =>
      withTwo(async (a, b, clock) => {
        const got: Job[] = [];
        const sub = b.subscribe('q', { deliver: (jobs) => void got.push(...jobs), revoke: () => {} });
        sub.addCredits(10);
        await a.add('q', 1);
        await advanceUntil(clock, b, () => got.length === 1, 5000);
        assert.equal(got[0]!.leaseExpiresAt! - got[0]!.updatedAt, 30_000);

        await a.queue('q').configure({ visibilityTimeoutMs: 5000 });
        await runFor(clock, b, REFRESH_MS);
        await a.add('q', 2);
        await advanceUntil(clock, b, () => got.length === 2, 5000);
        assert.equal(got[1]!.leaseExpiresAt! - got[1]!.updatedAt, 5000, 'B leased with the old visibility timeout');
        sub.close();
      }));

    it('settings are not read again on every claim', () =>
      withTwo(async (a, b, clock) => {
        let reads = 0;
        const queueGet = b.store.queueGet.bind(b.store);
        b.store.queueGet = (queue) => (reads++, queueGet(queue));
        const got: Job[] = [];
        const sub = b.subscribe('q', { deliver: (jobs) => void got.push(...jobs), revoke: () => {} });
        sub.addCredits(1000);
        for (let i = 0; i < 20; i++) {
          await a.add('q', i);
          await advanceUntil(clock, b, () => got.length === i + 1, 2000, 10);
        }
        // 20 claims over about 20 × 10–100 ms of clock time: a read per refresh interval at most.
        assert.ok(reads <= Math.ceil((clock.now() - Date.parse('2026-01-01T00:00:00Z')) / REFRESH_MS) + 1, `${reads} settings reads for 20 claims`);
        sub.close();
      }));
  });
}
