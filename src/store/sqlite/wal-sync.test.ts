/**
 * The group commit with a WAL syncer: commits write the WAL (synchronous NORMAL), durable writes
 * are answered only after a sync that began after their commit, claims at their commit, and the
 * fdatasync runs off the event loop.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { scratchDir } from '../../../test/support/scratch.ts';
import { GroupCommit } from './group-commit.ts';
import { WalSync, type WalSyncer } from './wal-sync.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { NewJobRow } from '../store.ts';

/** A syncer whose syncs end when the test says: each sync() call is one pending entry. */
function heldSyncer(): WalSyncer & { calls: (() => void)[] } {
  const calls: (() => void)[] = [];
  return {
    calls,
    sync: () => new Promise<void>((resolve) => calls.push(resolve)),
    close: async () => {},
  };
}

/** Resolves with whether `p` has settled after the promise jobs queued now have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true), () => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** A ready job of queue `q` for the store's insert. */
function readyRow(id: string, now: number): NewJobRow {
  return { id, queue: 'q', name: 'n', payload: '{}', priority: 0, state: 'ready', runAt: now, maxAttempts: 5, maxStalls: 3, timeoutMs: 0, trace: null, group: null, createdAt: now };
}

function table(dir: string): DatabaseSync {
  const db = new DatabaseSync(join(dir, 'g.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (v INTEGER)');
  return db;
}

describe('SQLite: group commit with the WAL synced off the event loop', () => {
  it('a durable write is answered after the sync that follows its commit; a claim at its commit', async () => {
    const db = table(scratchDir('wal-held'));
    const syncer = heldSyncer();
    const group = new GroupCommit(db, null, syncer);
    const write = (v: number) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).changes;
    try {
      assert.equal((db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 1, 'commits write the WAL without syncing it (NORMAL)');
      const claim = group.submit(write(1), false);
      const add = group.submit(write(2));
      assert.equal(await settled(claim), true, 'the claim is answered once committed');
      assert.equal(await settled(add), false, 'the add waits for its sync');
      assert.equal(syncer.calls.length, 1, 'one sync for the group');
      assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 2, 'both are committed');
      syncer.calls[0]!();
      assert.equal(await add, 1);

      // A group of claims alone asks for no sync.
      await group.submit(write(3), false);
      assert.equal(syncer.calls.length, 1);
    } finally {
      await group.close();
      db.close();
    }
  });

  it('a sync that fails fails the durable writes of its group with a clear error, not the claims', async () => {
    const db = table(scratchDir('wal-fail'));
    const group = new GroupCommit(db, null, { sync: () => Promise.reject(new Error('EIO: i/o error, fdatasync')), close: async () => {} });
    try {
      const claim = group.submit(() => 1, false);
      const ack = group.submit(() => 2);
      assert.equal(await claim, 1);
      await assert.rejects(ack, /EIO/);
    } finally {
      await group.close();
      db.close();
    }
  });

  it('WalSync: commits made while a sync runs share the next one; each caller waits for a sync begun after its call', async () => {
    const dir = scratchDir('wal-real');
    const db = table(dir);
    db.exec('PRAGMA synchronous = NORMAL');
    const syncer = new WalSync(join(dir, 'g.db-wal'));
    try {
      db.prepare('INSERT INTO t (v) VALUES (1)').run();
      const first = syncer.sync();
      const during = [syncer.sync(), syncer.sync(), syncer.sync()];
      assert.equal(syncer.syncs, 1, 'the calls made while one runs wait for the next');
      await first;
      await Promise.all(during);
      assert.equal(syncer.syncs, 2, 'three callers, one more fdatasync');
      await syncer.sync();
      assert.equal(syncer.syncs, 3);
    } finally {
      await syncer.close();
      db.close();
    }
  });

  it('WalSync: no WAL file yet is nothing to sync', async () => {
    const syncer = new WalSync(join(scratchDir('wal-none'), 'absent.db-wal'));
    await syncer.sync();
    assert.equal(syncer.syncs, 0);
    await syncer.close();
  });

  it('a read made while an add is committed but not yet synced waits for the sync, and is answered after the add', async () => {
    const dir = scratchDir('wal-read');
    const store = new SqliteStore({ path: join(dir, 's.db') });
    const now = 1_000_000;
    const row = readyRow('0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d61', now);
    try {
      const order: string[] = [];
      const added = store.jobsInsertMany([row]).then(() => order.push('add answered'));
      // The group commits in this turn's check phase; its fdatasync can only be answered in a later poll phase.
      await new Promise((resolve) => setImmediate(resolve));
      const read = store.jobsGet([row.id]).then((jobs) => {
        order.push('read answered');
        return jobs;
      });
      const [job] = await read;
      await added;
      assert.deepEqual(order, ['add answered', 'read answered'], 'the read waited for the add\'s sync');
      assert.equal(job?.id, row.id);
    } finally {
      await store.close();
    }
  });

  it('a SQLite store with durability fsync syncs its WAL for adds and acks, not for claims alone, and closes only once synced', async () => {
    const dir = scratchDir('wal-store');
    const store = new SqliteStore({ path: join(dir, 's.db') });
    const now = 1_000_000;
    const row = readyRow('0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d60', now);
    assert.equal(store.walSyncs, 0);
    await store.jobsInsertMany([row]);
    assert.equal(store.walSyncs, 1, 'the add was answered after a sync');
    const [job] = await store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 30_000, now });
    assert.equal(store.walSyncs, 1, 'a claim alone syncs nothing');
    const probe = new DatabaseSync(join(dir, 's.db'));
    try {
      assert.equal((probe.prepare('SELECT state FROM jobs WHERE id = ?').get(row.id) as { state: string }).state, 'active');
    } finally {
      probe.close();
    }
    const [done] = await store.jobsComplete([{ lease: { jobId: job!.id, token: job!.leaseToken }, result: '1' }], now);
    assert.equal(done!.ok, true);
    assert.equal(store.walSyncs, 2, 'the ack was answered after a sync');
    const closing = [store.close(), store.close()];
    await Promise.all(closing);
  });
});
