// Processes on one PostgreSQL keep the database server's time, not their machines': a delay or a
// lease set by one process then ends at the same moment for every other. (The fault schedule's
// clock-step session steps one broker's clock under libfaketime and checks that no delayed job
// runs early and no lease is taken back early across brokers; this is the part that runs in-process.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { systemClock } from '../src/core/clock.ts';
import { Spool } from '../src/engine/spool.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

describe('the time a Spool keeps', () => {
  it("on PostgreSQL: the database server's clock, read at open and every second", async () => {
    const store = await openPostgresStore({ url: testPgUrl(), schema: uniqueSchema(), poolSize: 2 });
    // The server as if its clock were 30 s ahead of this machine's (a machine 30 s behind).
    const serverTime = store.storeTime.bind(store);
    let skewMs = 30_000;
    store.storeTime = async () => (await serverTime()) + skewMs;
    const spool = await Spool.open({ store });
    try {
      const ahead = spool.clock.now() - Date.now();
      assert.ok(Math.abs(ahead - 30_000) < 2_000, `Spool's time is ${ahead} ms from this machine's, not ~30 s`);
      const job = await spool.queue('clock').add({}, { delayMs: 60_000 });
      assert.ok(Math.abs(job.createdAt - Date.now() - 30_000) < 2_000, `createdAt ${job.createdAt - Date.now()} ms from this machine's clock`);
      assert.equal(job.runAt - job.createdAt, 60_000);
      // The server's clock is now read 30 s behind: Spool's time slows down towards it, never back.
      skewMs = -30_000;
      const before = spool.clock.now();
      await waitFor(() => spool.clock.now() - Date.now() < ahead - 100, 'Spool to move towards the new reading');
      assert.ok(spool.clock.now() >= before, 'time went backwards');
    } finally {
      await spool.close();
    }
  });

  it("on SQLite: this machine's clock, made steady", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-clock-'));
    const spool = await Spool.open({ store: join(dir, 'data') });
    try {
      assert.equal(spool.clock, systemClock);
    } finally {
      await spool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Polls `cond` (state, not time: the test waits as long as it takes). */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 3000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
