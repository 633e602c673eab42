import { scratchDir } from '../../../test/support/scratch.ts';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { SchemaTooNewError, StoreUnavailableError } from '../../core/errors.ts';
import { Spool } from '../../engine/spool.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { NewJobRow } from '../store.ts';
import { plannedOnce } from './prepare.ts';
import { ACTIVE_EXPIRED, prepareStatements, SEARCH_ALL, SEARCH_BY_STATE } from './statements.ts';

const dir = scratchDir('spool-sqlite-');
let n = 0;
const freshPath = () => join(dir, `d${n++}.db`);

describe('SQLite driver', () => {
  it('uses WAL and full sync by default, and migrates a new file to the latest schema', async () => {
    const path = freshPath();
    const store = new SqliteStore({ path });
    await store.close();
    const db = new DatabaseSync(path);
    assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
    assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, LATEST_SCHEMA_VERSION);
    db.close();
    assert.equal(store.capabilities.durability, 'fsync on commit');
    assert.match(new SqliteStore({ path: freshPath(), durability: 'no-fsync' }).capabilities.durability, /no fsync/);
  });

  it('reopens an existing database without migrating it again, keeping its jobs', async () => {
    const path = freshPath();
    const a = await Spool.open({ store: path, maintenance: false });
    const job = await a.queue('q').add({ keep: true });
    await a.close();
    const b = await Spool.open({ store: path, maintenance: false });
    assert.deepEqual((await b.get(job.id)).payload, { keep: true });
    await b.close();
  });

  it('migrates a database of every older version to the latest, keeping its jobs', async () => {
    for (const old of MIGRATIONS.slice(0, -1)) {
      const path = freshPath();
      const db = new DatabaseSync(path);
      for (const m of MIGRATIONS.filter((m) => m.version <= old.version)) db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${old.version}`);
      db.prepare(`INSERT INTO jobs (id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, created_at, updated_at)
                  VALUES ('01900000-0000-7000-8000-000000000001', 'q', 'default', '{"old":true}', 0, 'ready', 0, 5, 3, 0, 0)`).run();
      db.close();
      const store = new SqliteStore({ path });
      const [job] = await store.jobsGet(['01900000-0000-7000-8000-000000000001']);
      assert.deepEqual([job?.payload, job?.trace], [{ old: true }, null], `from version ${old.version}: no trace context (version 6)`);
      assert.equal(await store.tokensExist(), false, 'the tokens table (version 2) exists');
      // Version 7 counts the jobs there are; from then on the store counts what it writes (a row written behind its back, as here, is not).
      if (old.version < 7) assert.equal((await store.queueStats('q', 0))[0]!.counts.ready, 1, `from version ${old.version}: the job is counted (version 7 seeds the counts)`);
      await store.close();
      const after = new DatabaseSync(path);
      assert.equal((after.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, LATEST_SCHEMA_VERSION);
      after.close();
    }
  });

  it('idempotency keys: a v11 database keeps its keys past version 12; a refused keyed row leaves no key behind', async () => {
    const row = (id: string, key: string, now = 1000): NewJobRow => ({
      id, queue: 'q', name: 'default', payload: '1', priority: 0, runAt: now, state: 'ready', maxAttempts: 3, maxStalls: 1, timeoutMs: 0,
      trace: null, group: null, createdAt: now, idempotency: { key, since: now - 500 },
    });
    const path = freshPath();
    const db = new DatabaseSync(path);
    for (const m of MIGRATIONS.filter((m) => m.version <= 11)) db.exec(m.sql);
    db.exec('PRAGMA user_version = 11');
    db.exec(`INSERT INTO jobs (id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, created_at, updated_at)
             VALUES ('01900000-0000-7000-8000-000000000001', 'q', 'default', '1', 0, 'ready', 0, 3, 1, 1000, 1000);
             INSERT INTO publish_keys (queue, key, job_id, created_at) VALUES ('q', 'k', '01900000-0000-7000-8000-000000000001', 1000)`);
    db.close();
    const store = new SqliteStore({ path });
    assert.deepEqual(await store.jobsInsertMany([row('01900000-0000-7000-8000-000000000002', 'k')]), ['01900000-0000-7000-8000-000000000001']);
    // Job 1 exists: its row is refused (a duplicate id), and key k2 must not name it or anything else.
    const [refused, stored] = await store.jobsInsertEach([row('01900000-0000-7000-8000-000000000001', 'k2'), row('01900000-0000-7000-8000-000000000003', 'k3')]);
    assert.equal(refused!.ok, false);
    assert.deepEqual(stored, { ok: true });
    assert.deepEqual(await store.jobsInsertEach([row('01900000-0000-7000-8000-000000000004', 'k2')]), [{ ok: true }], 'k2 was not kept');
    await store.close();
    const after = new DatabaseSync(path);
    assert.equal(after.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name = 'publish_keys_created'`).get()!.n, 0, 'version 12 drops the index');
    after.close();
  });

  it('refuses a database written by a newer schema, with a clear error', async () => {
    const path = freshPath();
    await new SqliteStore({ path }).close();
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => new SqliteStore({ path }),
      (e: Error) => e instanceof SchemaTooNewError && e.message.includes(`schema version ${LATEST_SCHEMA_VERSION + 1}`) && /newer Spool/.test(e.message),
    );
  });

  it('no statement leaves its LIMIT or OFFSET parameter to the planner, which would plan it again on every run', async () => {
    const path = freshPath();
    await new SqliteStore({ path }).close();
    const db = new DatabaseSync(path);
    try {
      const statements: [string, string][] = [];
      for (const [name, value] of Object.entries(prepareStatements(db, 20, 0))) {
        if ('sourceSQL' in value) statements.push([name, value.sourceSQL]);
        else for (const [inner, st] of Object.entries(value)) statements.push([`${name}.${inner}`, (st as { sourceSQL: string }).sourceSQL]);
      }
      assert.ok(statements.filter(([, sql]) => /\bLIMIT \+\?/.test(sql)).length >= 20, 'the claim, the sweeps and the paged reads bind their limits');
      assert.deepEqual(statements.filter(([, sql]) => /\b(LIMIT|OFFSET)\s+\?/i.test(sql)).map(([name]) => name), []);
      assert.equal(plannedOnce('SELECT id FROM jobs ORDER BY id LIMIT ?2 OFFSET ?'), 'SELECT id FROM jobs ORDER BY id LIMIT +?2 OFFSET +?');
    } finally {
      db.close();
    }
  });

  it('the reaper reads active jobs through jobs_queue_state, never scanning the table', async () => {
    const path = join(scratchDir('spool-plan-'), 'plan.db');
    await new SqliteStore({ path }).close();
    const db = new DatabaseSync(path);
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${plannedOnce(ACTIVE_EXPIRED)}`).all(0, 10) as { detail: string }[]).map((r) => r.detail);
      assert.ok(plan.some((d) => d.startsWith('SEARCH jobs USING INDEX jobs_queue_state (queue=? AND state=?)')), plan.join('\n'));
      assert.deepEqual(plan.filter((d) => /^SCAN jobs\b/.test(d)), [], `no full scan of jobs:\n${plan.join('\n')}`);
    } finally {
      db.close();
    }
  });

  it('a payload search reads a bounded range of jobs_queue_state, never scanning the table', async () => {
    const path = join(scratchDir('spool-plan-'), 'plan.db');
    await new SqliteStore({ path }).close();
    const db = new DatabaseSync(path);
    try {
      for (const [sql, perState] of [[SEARCH_BY_STATE, 1], [SEARCH_ALL, 6]] as const) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${plannedOnce(sql)}`).all('q', 'ready', '', 'f', 100, 10, '$."a"', 'number', 1, null) as { detail: string }[]).map((r) => r.detail);
        // Each state's range is an index range on (queue, state, id), cut by its LIMIT (the bound); job rows are then read by key.
        const ranges = plan.filter((d) => d.startsWith('SEARCH jobs USING COVERING INDEX jobs_queue_state (queue=? AND state=? AND id>? AND id<?)'));
        assert.equal(ranges.length, perState, plan.join('\n'));
        assert.ok(plan.some((d) => /^SEARCH jobs USING PRIMARY KEY \(id=\?\)/.test(d)), plan.join('\n'));
        assert.deepEqual(plan.filter((d) => /^SCAN jobs\b/.test(d)), [], `no full scan of jobs:\n${plan.join('\n')}`);
      }
    } finally {
      db.close();
    }
  });

  it('the reaper finds expired leases in every queue, oldest deadline first', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    try {
      const now = 1_000_000;
      const rows = ['b', 'a', 'c'].map((queue, i) => ({
        id: `0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6${i}`, queue, name: 'zzz', payload: '{}', priority: 0, state: 'ready' as const,
        runAt: now, maxAttempts: 5, maxStalls: 3, timeoutMs: 0, trace: null, group: null, createdAt: now,
      }));
      await store.jobsInsertMany(rows);
      // Leases of different lengths, so the deadlines order them c, a, b.
      for (const [queue, leaseMs] of [['c', 100], ['a', 200], ['b', 300]] as const) await store.jobsClaim({ queue, limit: 1, leaseMs, now });
      assert.deepEqual(await store.jobsReapExpired({ now: now + 150, limit: 10 }).then((r) => r.map((j) => j.queue)), ['c']);
      assert.deepEqual(await store.jobsReapExpired({ now: now + 1000, limit: 10 }).then((r) => r.map((j) => j.queue).sort()), ['a', 'b']);
    } finally {
      await store.close();
    }
  });

  it('refuses a file that is not a database', () => {
    const path = freshPath();
    writeFileSync(path, 'this is not sqlite, just some text that is long enough to have a header. '.repeat(20));
    assert.throws(() => new SqliteStore({ path }), (e: Error) => e instanceof StoreUnavailableError && /not a Spool database/.test(e.message));
  });

  it('group commit: adds made in one tick share one transaction', async () => {
    const store = new SqliteStore({ path: freshPath() });
    const spool = await Spool.open({ store, maintenance: false });
    await spool.queue('q').add('warm-up');
    const before = store.commits;
    await Promise.all(Array.from({ length: 100 }, (_, i) => spool.queue('q').add(i)));
    assert.equal(store.commits - before, 1, 'one commit for 100 concurrent adds');
    assert.equal((await spool.queue('q').stats()).counts.ready, 101);
    await spool.close();
  });

  it('a full disk gives a clear error, loses nothing already accepted, and recovers', async () => {
    const path = freshPath();
    // A size cap fills up the way a full disk does: SQLite reports SQLITE_FULL. The empty schema
    // takes some 41 pages of 4 KiB: the cap leaves room above it for a few batches.
    const spool = await Spool.open({ store: new SqliteStore({ path, maxDatabaseBytes: 256 * 1024 }), maintenance: false });
    const q = spool.queue('q');
    const accepted: string[] = [];
    let failure: unknown;
    for (let i = 0; i < 2000 && !failure; i++) {
      try {
        const jobs = await q.addMany(Array.from({ length: 20 }, (_, k) => ({ payload: { i, k, pad: 'x'.repeat(200) } })));
        accepted.push(...jobs.map((j) => j.id));
      } catch (err) {
        failure = err;
      }
    }
    assert.ok(failure instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${failure}`);
    assert.match((failure as Error).message, /full.*Free space and retry.*Nothing from this call was written/s);
    assert.ok(accepted.length > 0);
    await spool.close();
    const reopened = await Spool.open({ store: path, maintenance: false });
    assert.equal((await reopened.queue('q').stats()).counts.ready, accepted.length, 'every accepted job is there, none of the failed batch');
    await reopened.queue('q').add('after recovery');
    const db = new DatabaseSync(path);
    assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    db.close();
    await reopened.close();
  });
});

