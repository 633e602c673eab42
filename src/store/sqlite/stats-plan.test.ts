import { scratchDir } from '../../../test/support/scratch.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { newJobId } from '../../core/ids.ts';
import { ID_MAX } from '../payload-search.ts';
import type { NewJobRow } from '../store.ts';
import { SqliteStore } from './sqlite-store.ts';
import { prepareStatements } from './statements.ts';

// The dashboard's reads never scan the jobs table: every access to it is an index seek or a
// bounded index range with the queue (and state, or priority) fixed, or a read by key; the
// counts come from queue_counts. Checked on the plans SQLite chooses on a store with jobs in
// every state, several queues and priorities.

/** The plan of a statement, one line per step. */
function plan(db: DatabaseSync, sql: string, params: (string | number | null)[]): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
}

/** The steps that read the jobs table, and those among them that are not a seek or bounded range with equality on the queue or id. */
function jobsAccess(lines: string[]): { reads: string[]; bad: string[] } {
  const reads = lines.filter((l) => /^(SCAN|SEARCH) jobs\b/.test(l));
  const bad = reads.filter((l) => !/^SEARCH jobs USING (COVERING INDEX \w+|INDEX \w+|PRIMARY KEY) \((queue=\?|id=\?)/.test(l));
  return { reads, bad };
}

describe('SQLite: the plans of the dashboard reads', () => {
  it('queueStats reads queue_counts and seeks jobs_ready (loose index scan), never scanning jobs; lists and gets read bounded index ranges or by key', async () => {
    const path = join(scratchDir('spool-plan-'), 'p.db');
    const store = new SqliteStore({ path, durability: 'no-fsync' });
    const now = 1_700_000_000_000;
    const rows: NewJobRow[] = Array.from({ length: 3_000 }, (_, i) => ({
      id: newJobId(now + i), queue: `q${i % 10}`, name: 'n', payload: '{}', priority: [-1_000_000, 0, 7, 1_000_000][i % 4]!,
      runAt: i % 5 === 0 ? now + 60_000 : now + i, state: i % 5 === 0 ? 'scheduled' : 'ready', maxAttempts: 1, maxStalls: 1, timeoutMs: 0, trace: null, group: i % 3 === 0 ? `g${i % 7}` : null, createdAt: now + i,
    }));
    await store.jobsInsertMany(rows);
    for (let q = 0; q < 10; q++) {
      const claimed = await store.jobsClaim({ queue: `q${q}`, limit: 60, leaseMs: 1_000, now: now + 5_000 });
      await store.jobsComplete(claimed.slice(0, 20).map((j) => ({ lease: { jobId: j.id, token: j.leaseToken }, result: null })), now + 5_000);
      await store.jobsFail(claimed.slice(20, 40).map((j) => ({ lease: { jobId: j.id, token: j.leaseToken }, error: 'e', retryAt: now, unrecoverable: true })), now + 5_000);
    }
    await store.close();

    const db = new DatabaseSync(path);
    db.exec('ANALYZE');
    const s = prepareStatements(db, 50, 0);
    try {
      // Every statement queueStats runs (src/store/sqlite/queues.ts), for all queues and for one.
      const stats: [string, string, (string | number | null)[]][] = [
        ['queueList', s.queueList.sourceSQL, []],
        ['queueGet', s.queueGet.sourceSQL, ['q3']],
        ['countsAll', s.countsAll.sourceSQL, []],
        ['countsOne', s.countsOne.sourceSQL, ['q3']],
        ['oldestAll', s.oldestAll.sourceSQL, []],
        ['oldestOne', s.oldestOne.sourceSQL, ['q3']],
        ['requiresSetsAll', s.requiresSetsAll.sourceSQL, []],
        ['requiresSetsOne', s.requiresSetsOne.sourceSQL, ['q3']],
        ['requiresCount', s.requiresCount.sourceSQL, ['q3', 'gpu']],
      ];
      for (const [name, sql, params] of stats) {
        const lines = plan(db, sql, params);
        const { bad } = jobsAccess(lines);
        assert.deepEqual(bad, [], `${name} reads jobs only by index seeks with the queue fixed:\n${lines.join('\n')}`);
        assert.ok(!lines.some((l) => /^SCAN jobs\b/.test(l)), `${name} never scans jobs:\n${lines.join('\n')}`);
      }
      for (const name of ['countsAll', 'countsOne'] as const) {
        const lines = plan(db, s[name].sourceSQL, name === 'countsOne' ? ['q3'] : []);
        assert.deepEqual(jobsAccess(lines).reads, [], `${name} reads queue_counts alone:\n${lines.join('\n')}`);
      }
      for (const name of ['oldestAll', 'oldestOne'] as const) {
        const lines = plan(db, s[name].sourceSQL, name === 'oldestOne' ? ['q3'] : []);
        // The first priority of a queue, the next lower one, and the first run_at of each: three seeks of jobs_ready.
        assert.deepEqual(jobsAccess(lines).reads, [
          'SEARCH jobs USING COVERING INDEX jobs_ready (queue=?)',
          'SEARCH jobs USING COVERING INDEX jobs_ready (queue=? AND priority<?)',
          'SEARCH jobs USING COVERING INDEX jobs_ready (queue=? AND priority=?)',
        ], lines.join('\n'));
      }
      // The oldest ready time is the same as a walk of all ready jobs would find.
      const walked = db.prepare(`SELECT queue, min(run_at) AS at FROM jobs WHERE state = 'ready' GROUP BY queue ORDER BY queue`).all();
      assert.deepEqual(db.prepare(`${s.oldestAll.sourceSQL} ORDER BY queue`).all(), walked);

      // The other reads of the dashboard: a job by id, a page of a queue in one state or across states (cursor and limit).
      const reads: [string, string, (string | number | null)[]][] = [
        ['get', s.get.sourceSQL, [rows[0]!.id]],
        ['listByState', s.listByState.sourceSQL, ['q3', 'ready', '', ID_MAX, 50]],
        ['listAll', s.listAll.sourceSQL, ['q3', null, '', ID_MAX, 50]],
        ['listGroup', s.listGroup.sourceSQL, ['q3', 'g2', '', ID_MAX, 50]],
        ['idsByGroup', s.idsByGroup.sourceSQL, ['q3', 'g2', '', ID_MAX, 50]],
        ['groupInRange', s.groupInRange.sourceSQL, ['q3', 'g2', '', ID_MAX, 'dead', null, 50]],
      ];
      for (const [name, sql, params] of reads) {
        const lines = plan(db, sql, params);
        const { reads: r, bad } = jobsAccess(lines);
        assert.ok(r.length > 0, lines.join('\n'));
        assert.deepEqual(bad, [], `${name} reads jobs by key or a bounded index range of one queue:\n${lines.join('\n')}`);
      }
      // A page across states: one (queue, state, id) range per state, each cut by the limit, then the jobs by key.
      const all = plan(db, s.listAll.sourceSQL, ['q3', null, '', ID_MAX, 50]);
      assert.equal(all.filter((l) => l === 'SEARCH jobs USING COVERING INDEX jobs_queue_state (queue=? AND state=? AND id>? AND id<?)').length, 6, all.join('\n'));
      assert.deepEqual((s.listAll.all('q3', null, '', ID_MAX, 50) as { id: string }[]).map((r) => r.id),
        (db.prepare(`SELECT id FROM jobs WHERE queue = 'q3' ORDER BY id LIMIT 50`).all() as { id: string }[]).map((r) => r.id));
      // A page of one group: one range of jobs_queue_group from the cursor, the state or name filter on its rows alone.
      const group = 'SEARCH jobs USING INDEX jobs_queue_group (queue=? AND group_key=? AND id>? AND id<?)';
      assert.deepEqual(jobsAccess(plan(db, s.listGroup.sourceSQL, ['q3', 'g2', '', ID_MAX, 50])).reads, [group]);
      assert.deepEqual(jobsAccess(plan(db, s.groupInRange.sourceSQL, ['q3', 'g2', '', ID_MAX, 'dead', 'n', 50])).reads, [group]);
      assert.deepEqual(jobsAccess(plan(db, s.idsByGroup.sourceSQL, ['q3', 'g2', '', ID_MAX, 50])).reads, [group.replace('USING INDEX', 'USING COVERING INDEX')]);
      const inGroup = `SELECT id FROM jobs WHERE queue = 'q3' AND group_key = 'g2'`;
      assert.deepEqual((s.listGroup.all('q3', 'g2', '', ID_MAX, 50) as { id: string }[]).map((r) => r.id),
        (db.prepare(`${inGroup} ORDER BY id LIMIT 50`).all() as { id: string }[]).map((r) => r.id));
      assert.deepEqual((s.groupInRange.all('q3', 'g2', '', ID_MAX, 'dead', null, 50) as { id: string }[]).map((r) => r.id),
        (db.prepare(`${inGroup} AND state = 'dead' ORDER BY id LIMIT 50`).all() as { id: string }[]).map((r) => r.id));
    } finally {
      db.close();
    }
  });
});
