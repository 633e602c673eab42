import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { Spool } from './spool.ts';

/** Counts the calls made to each store method. */
function counting(store: Store, calls: Map<string, number>): Store {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

test('a job delayed past 2³¹−1 ms does not make maintenance spin (real clock)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-maint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const calls = new Map<string, number>();
  const store = counting(await openSqliteStore({ path: join(dir, 'spool.db') }), calls);
  const spool = await Spool.open({ store, maintenanceIntervalMs: 60_000, pollIntervalMs: 60_000 });
  try {
    await spool.queue('q').add('later', { delayMs: 30 * 24 * 3600 * 1000 });
    calls.clear();
    // With the delay handed to Node unclamped, the due timer fires after 1 ms, before this 100 ms marker, and again and again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(calls.get('jobsPromoteDue') ?? 0, 0, 'the due timer fired for a job due in 30 days');
    assert.equal((await spool.queue('q').stats()).counts.scheduled, 1);
  } finally {
    await spool.close();
  }
});
