import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import postgres from 'postgres';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { InvalidArgumentError, SchemaTooNewError } from '../../core/errors.ts';
import { newJobId } from '../../core/ids.ts';
import { Spool } from '../../engine/spool.ts';
import type { LeaseMiss, NewJobRow } from '../store.ts';
import { PG_LATEST_SCHEMA_VERSION, PG_MIGRATIONS } from './migrations.ts';
import { openPostgresStore } from './postgres-store.ts';
import { pgStatements } from './statements.ts';

const sql = postgres(testPgUrl(), { max: 2, onnotice: () => {} });
after(() => sql.end());

describe('PostgreSQL driver', () => {
  it('a payload search reads a bounded range of the (queue, state, id) indexes, never scanning a table', async () => {
    const schema = uniqueSchema();
    const store = await openPostgresStore({ url: testPgUrl(), schema, poolSize: 1, notify: false });
    try {
      const q = pgStatements(schema, 50);
      for (const [where, indexes] of [['live', ['jobs_queue_state']], ['finished', ['jobs_finished_queue_state']], ['all', ['jobs_queue_state', 'jobs_finished_queue_state']]] as const) {
        const params = ['q', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 100, 10, '1', null, null, 'user', 'id', ...(where === 'all' ? [] : ['ready'])];
        // An empty table's plan is whatever is cheapest for no rows: with sequential scans priced out,
        // the plan shows the access path the statement allows (a full scan would still appear, at its cost).
        const plan = await sql.begin(async (tx) => {
          await tx.unsafe('SET LOCAL enable_seqscan = off');
          return (await tx.unsafe(`EXPLAIN ${q.search(where, 2)}`, params as never[])).map((r) => r['QUERY PLAN'] as string).join('\n');
        });
        for (const index of indexes) {
          // Every state's range (one in a state; three per table across states) is an index range cut by its own LIMIT.
          assert.match(plan, new RegExp(`Limit[^\\n]*\\n\\s*->\\s+Index (Only )?Scan using ${index} on \\S+[^\\n]*\\n\\s*Index Cond: \\(\\(queue = [^\\n]*AND \\(id > [^\\n]*AND \\(id <= `), plan);
        }
        for (const index of indexes) assert.equal(plan.match(new RegExp(`Scan using ${index} on`, 'g'))?.length, where === 'all' ? 3 : 1, plan);
        assert.doesNotMatch(plan, /Seq Scan|Filter: \(queue/, `no table scan, no walk past other queues' jobs:\n${plan}`);
      }
    } finally {
      await store.close();
    }
  });

  it('migrates a new schema, and concurrent starters migrate it once', async () => {
    const schema = uniqueSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url: testPgUrl(), schema, poolSize: 1 })));
    const versions = await sql.unsafe(`SELECT version FROM ${schema}.schema_version ORDER BY version`);
    assert.deepEqual(versions.map((r) => r.version), PG_MIGRATIONS.map((m) => m.version));
    await Promise.all(stores.map((s) => s.close()));
  });

  it('migrates a schema of every older version to the latest, keeping its jobs', async () => {
    for (const old of PG_MIGRATIONS.slice(0, -1)) {
      const schema = uniqueSchema();
      await sql.unsafe(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.schema_version (version integer NOT NULL)`);
      for (const m of PG_MIGRATIONS.filter((m) => m.version <= old.version)) {
        await sql.unsafe(m.sql(schema));
        await sql.unsafe(`INSERT INTO ${schema}.schema_version (version) VALUES (${m.version})`);
      }
      await sql.unsafe(`INSERT INTO ${schema}.jobs (id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, created_at, updated_at)
        VALUES ('01900000-0000-7000-8000-000000000001', 'q', 'default', '{"old":true}', 0, 'ready', 0, 5, 3, 0, 0)`);
      const store = await openPostgresStore({ url: testPgUrl(), schema, notify: false });
      assert.equal(store.migratedFrom, old.version);
      assert.equal(await store.schemaVersion(), PG_LATEST_SCHEMA_VERSION);
      const [job] = await store.jobsGet(['01900000-0000-7000-8000-000000000001']);
      assert.deepEqual([job?.payload, job?.trace], [{ old: true }, null], `from version ${old.version}: no trace context (version 5)`);
      assert.equal(await store.tokensExist(), false, 'the tokens table (version 2) exists');
      assert.equal((await store.queueStats('q', 0))[0]!.counts.ready, 1, `from version ${old.version}: the job is counted (version 6 seeds the counts)`);
      await store.close();
    }
  });

  it('refuses a schema written by a newer Spool, with a clear error', async () => {
    const schema = uniqueSchema();
    await (await openPostgresStore({ url: testPgUrl(), schema })).close();
    await sql.unsafe(`INSERT INTO ${schema}.schema_version (version) VALUES (${PG_LATEST_SCHEMA_VERSION + 1})`);
    await assert.rejects(openPostgresStore({ url: testPgUrl(), schema }), (e: Error) => e instanceof SchemaTooNewError && /newer Spool/.test(e.message));
  });

  it('with migrate: false, refuses a schema that is behind and says to run spool migrate', async () => {
    await assert.rejects(openPostgresStore({ url: testPgUrl(), schema: uniqueSchema(), migrate: false }), /spool migrate/);
  });

  it('stores payloads as real jsonb, queryable with SQL', async () => {
    const schema = uniqueSchema();
    const spool = await Spool.open({ store: testPgUrl(), schema, maintenance: false });
    await spool.queue('q').add({ to: 'a@example.com', tags: ['x'] });
    const [row] = await sql.unsafe(`SELECT payload->>'to' AS to, jsonb_typeof(payload) AS kind FROM ${schema}.jobs`);
    assert.deepEqual({ ...row }, { to: 'a@example.com', kind: 'object' });
    await spool.close();
  });

  it('opens from a postgres:// store spec', async () => {
    const schema = uniqueSchema();
    const spool = await Spool.open({ store: testPgUrl(), schema, maintenance: false });
    await spool.queue('q').add({ via: 'url' });
    assert.match(spool.store.location, /^postgres:\/\/127\.0\.0\.1:\d+\/postgres \(schema t_/);
    await spool.close();
  });

  describe('transactional enqueue', () => {
    it('postgres.js: the job exists if and only if the transaction commits', async () => {
      const spool = await Spool.open({ store: testPgUrl(), schema: uniqueSchema(), maintenance: false });
      const q = spool.queue('tx');
      const committed = await sql.begin(async (tx) => q.add({ n: 1 }, { tx }));
      await assert.rejects(
        sql.begin(async (tx) => {
          await q.add({ n: 2 }, { tx });
          throw new Error('roll back');
        }),
        /roll back/,
      );
      const jobs = await q.list();
      assert.deepEqual(jobs.map((j) => j.id), [committed.id]);
      await spool.close();
    });

    it('pg: the job exists if and only if the transaction commits, and wakes a worker on commit', async () => {
      const spool = await Spool.open({ store: testPgUrl(), schema: uniqueSchema(), pollIntervalMs: 60_000 });
      const client = new pg.Client({ connectionString: testPgUrl() });
      after(() => Promise.all([spool.close(), client.end()]));
      const q = spool.queue('tx');
      const seen: unknown[] = [];
      q.work(async (job) => void seen.push(job.payload));
      await client.connect();
      await client.query('BEGIN');
      await q.addMany([{ payload: 'a', tx: client }, { payload: 'b', tx: client }]);
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      await q.add('c', { tx: client });
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seen, [], 'not visible before commit');
      await client.query('COMMIT');
      const deadline = Date.now() + 5000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(seen, ['c'], 'woken by NOTIFY on commit, not by the (60 s) poll');
    });

    it('refuses a tx it cannot use, and a tx on the SQLite store', async () => {
      const spool = await Spool.open({ store: testPgUrl(), schema: uniqueSchema(), maintenance: false });
      await assert.rejects(spool.queue('q').add({}, { tx: { not: 'a transaction' } }), InvalidArgumentError);
      await spool.close();
      const lite = await Spool.open({ store: 'memory' });
      await assert.rejects(lite.queue('q').add({}, { tx: sql }), /needs the PostgreSQL store/);
      await lite.close();
    });
  });
});

describe('wake-ups across processes', () => {
  it('with notify, a consumer is woken by another process at once; with notify: false, by polling', async (t) => {
    for (const notify of [true, false]) {
      const schema = uniqueSchema();
      const consumer = await Spool.open({ store: testPgUrl(), schema, notify, pollIntervalMs: notify ? 60_000 : 50 });
      const producer = await Spool.open({ store: testPgUrl(), schema, notify, maintenance: false });
      t.after(() => Promise.all([consumer.close(), producer.close()]));
      assert.equal(consumer.store.capabilities.crossProcessNotify, notify);
      const seen: number[] = [];
      consumer.queue('q').work(async () => void seen.push(Date.now()));
      await new Promise((r) => setTimeout(r, 200));
      const added = Date.now();
      await producer.queue('q').add({ notify });
      const deadline = Date.now() + 5000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(seen.length, 1, `notify ${notify}: the job arrived`);
      assert.ok(seen[0]! - added < 2000, `notify ${notify}: promptly (${seen[0]! - added} ms; the poll without notify is 50 ms, with notify 60 s)`);
      // Every write path that wakes consumers works in both modes (retry announces its queue).
      // Scheduled an hour out, so the consumer cannot take it before the cancel.
      const dead = await producer.queue('q').add('redrive', { delayMs: 3_600_000 });
      await producer.cancel(dead.id);
      await producer.retry(dead.id);
      while (seen.length < 2 && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 5));
      assert.equal(seen.length, 2, `notify ${notify}: the retried job ran`);
    }
  });
});

describe('worker registry and health', () => {
  it('a process whose heartbeat is refused reports itself unhealthy once, registers again and recovers', async (t) => {
    const schema = uniqueSchema();
    const lines: string[] = [];
    const spool = await Spool.open({ store: testPgUrl(), schema, heartbeatIntervalMs: 100, maintenanceIntervalMs: 50, log: (l) => lines.push(l) });
    t.after(() => spool.close());
    spool.queue('q').work(async () => {});
    const deadline = Date.now() + 5000;
    while (spool.nodeId === null || (await sql.unsafe(`SELECT 1 FROM ${schema}.workers`)).length === 0) {
      if (Date.now() > deadline) throw new Error('the worker never registered');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(spool.health().healthy, true);
    // Another process (the leader) decided this one was dead and forgot it.
    await sql.unsafe(`DELETE FROM ${schema}.workers WHERE id = $1`, [spool.nodeId!]);
    while (!lines.some((l) => l.startsWith('spool: healthy again'))) {
      if (Date.now() > deadline) throw new Error(`no recovery: ${lines.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(lines[0]!, /^spool: unhealthy: heartbeat refused: this process was presumed dead/);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.equal(spool.health().healthy, true);
    assert.equal((await sql.unsafe(`SELECT count(*)::int AS n FROM ${schema}.workers WHERE id = $1`, [spool.nodeId!]))[0]!.n, 1, 'registered again');
  });

  it('an extend through another process takes the lease over: it no longer dies with the process that delivered it', async (t) => {
    // A client of broker A reconnects to broker B and extends there; then A dies.
    const schema = uniqueSchema();
    const options = { store: testPgUrl(), schema, heartbeatIntervalMs: 60_000, maintenance: false } as const;
    const a = await Spool.open(options);
    const b = await Spool.open(options);
    t.after(() => Promise.all([a.close(), b.close()]));
    await a.addMany('q', [{ payload: 'kept' }, { payload: 'orphaned' }]);
    const jobs = await a.claim('q', 2);
    const kept = jobs.find((j) => j.payload === 'kept')!;
    const orphaned = jobs.find((j) => j.payload === 'orphaned')!;
    await b.extend({ jobId: kept.id, token: kept.leaseToken });
    const owner = await sql.unsafe(`SELECT worker_id::text AS w FROM ${schema}.jobs WHERE id = $1`, [kept.id]);
    assert.equal(owner[0]!.w, b.nodeId);
    await sql.unsafe(`UPDATE ${schema}.workers SET expires_at = 0 WHERE id = $1`, [a.nodeId!]); // A's registration lapsed
    await b.runMaintenance();
    assert.equal((await b.get(orphaned.id)).state, 'ready', 'the dead process\'s other lease was taken back');
    assert.equal((await b.get(kept.id)).state, 'active');
    await b.ack({ jobId: kept.id, token: kept.leaseToken });
    assert.equal((await b.get(kept.id)).state, 'completed');
  });
});

describe('values PostgreSQL refuses (sent past the engine checks)', () => {
  const row = (queue: string, payload: string, name = 'default'): NewJobRow => {
    const now = Date.now();
    return { id: newJobId(now), queue, name, payload, priority: 0, runAt: now, state: 'ready', maxAttempts: 5, maxStalls: 3, timeoutMs: 0, trace: null, group: null, createdAt: now };
  };
  const refusedWith = (error: unknown, field: string, code: string, id: string): true => {
    assert.ok(error instanceof InvalidArgumentError, `INVALID_ARGUMENT, not ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
    assert.equal(error.field, field);
    assert.match(error.message, new RegExp(`job ${id}.*PostgreSQL refused a value \\(${code}: `));
    return true;
  };

  it('in a batch, fail only their own item, with INVALID_ARGUMENT naming it; atomic inserts fail whole and create no queue', async (t) => {
    const store = await openPostgresStore({ url: testPgUrl(), schema: uniqueSchema(), notify: false });
    t.after(() => store.close());
    const rows = [row('q', '{"i":0}'), row('q', '{"v":"\\u0000"}'), row('q', '{"i":2}'), row('q', '["\\ud800"]'), row('q', '{"i":4}', 'na\u0000me'), row('q', '{"i":5}')];
    const outcomes = await store.jobsInsertEach(rows);
    assert.deepEqual(outcomes.map((o) => o.ok), [true, false, true, false, false, true]);
    refusedWith((outcomes[1] as { error: Error }).error, 'payload', '22P05', rows[1]!.id);
    refusedWith((outcomes[3] as { error: Error }).error, 'payload', '22P02', rows[3]!.id);
    refusedWith((outcomes[4] as { error: Error }).error, 'name', '22021', rows[4]!.id);
    assert.deepEqual((await store.jobsGet(rows.map((r) => r.id))).map((j) => j?.payload ?? null), [{ i: 0 }, null, { i: 2 }, null, null, { i: 5 }]);
    assert.ok(await store.queueGet('q'));

    const [onlyBad] = await store.jobsInsertEach([row('only-bad', '"\\u0000"')]);
    assert.equal(onlyBad!.ok, false);
    assert.equal(await store.queueGet('only-bad'), null, 'a queue whose only job was refused is not created');

    await assert.rejects(store.jobsInsertMany([row('atomic', '1'), row('atomic', '"\\u0000"')]), (e: Error) => {
      assert.ok(e instanceof InvalidArgumentError, `${e.constructor.name}: ${e.message}`);
      assert.match(e.message, /^cannot add jobs: PostgreSQL refused a value \(22P05: /);
      return true;
    });
    assert.equal(await store.queueGet('atomic'), null);
    assert.deepEqual(await store.jobsList({ queue: 'atomic', limit: 10 }), []);

    // Acks and nacks of one batch.
    const claimed = await store.jobsClaim({ queue: 'q', limit: 3, leaseMs: 60_000, now: Date.now() });
    assert.equal(claimed.length, 3);
    const [a, b, c] = claimed.map((j) => ({ jobId: j.id, token: j.leaseToken }));
    const done = await store.jobsComplete([{ lease: a!, result: '1' }, { lease: b!, result: '{"r":"\\u0000"}' }], Date.now());
    assert.equal(done[0]!.ok, true);
    assert.equal(done[1]!.ok, false);
    refusedWith((done[1] as LeaseMiss).error, 'result', '22P05', b!.jobId);
    assert.equal((await store.jobsGet([b!.jobId]))[0]!.state, 'active', 'the refused item changed nothing');
    const failed = await store.jobsFail(
      [{ lease: b!, error: 'nul\u0000', retryAt: Date.now(), unrecoverable: false }, { lease: c!, error: 'fine', retryAt: Date.now() + 60_000, unrecoverable: false }],
      Date.now(),
    );
    refusedWith((failed[0] as LeaseMiss).error, 'error', '22021', b!.jobId);
    assert.deepEqual(failed[1], { ok: true, state: 'scheduled', deadReason: null });
    assert.deepEqual(await store.jobsComplete([{ lease: b!, result: '2' }], Date.now()), [{ ok: true }], 'the lease of the refused item still works');
  });

  it('in a large batch, only the refused rows fail (found by halving the batch)', async (t) => {
    const store = await openPostgresStore({ url: testPgUrl(), schema: uniqueSchema(), notify: false });
    t.after(() => store.close());
    const bad = new Set([0, 257, 499]);
    const rows = Array.from({ length: 500 }, (_, i) => row('big', bad.has(i) ? '"\\u0000"' : String(i)));
    const outcomes = await store.jobsInsertEach(rows);
    assert.deepEqual(outcomes.flatMap((o, i) => (o.ok ? [] : [i])), [...bad]);
    const stored = await store.jobsGet(rows.map((r) => r.id));
    assert.equal(stored.filter((j) => j !== null).length, 497);
    assert.deepEqual(stored.flatMap((j, i) => (j === null ? [i] : [])), [...bad]);
  });

  it('inside a transaction (a leader duty) a refused item rolls back alone, to a savepoint', async (t) => {
    const store = await openPostgresStore({ url: testPgUrl(), schema: uniqueSchema(), notify: false });
    t.after(() => store.close());
    const rows = [row('lead', '1'), row('lead', '"\\u0000"'), row('lead', '3')];
    const led = await store.asLeader('test', newJobId(), 5000, (bound) => bound.jobsInsertEach(rows));
    assert.ok(led.led);
    assert.deepEqual(led.value.map((o) => o.ok), [true, false, true]);
    assert.deepEqual((await store.jobsGet(rows.map((r) => r.id))).map((j) => j?.payload ?? null), [1, null, 3]);
  });

  it("adding in the caller's transaction creates the queue in that transaction", async (t) => {
    const store = await openPostgresStore({ url: testPgUrl(), schema: uniqueSchema(), notify: false });
    t.after(() => store.close());
    await assert.rejects(
      sql.begin(async (tx) => {
        await store.jobsInsertManyInTransaction(tx, [row('txq', '1')]);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await store.queueGet('txq'), null);
    await sql.begin(async (tx) => store.jobsInsertManyInTransaction(tx, [row('txq', '2')]));
    assert.ok(await store.queueGet('txq'));
  });
});
