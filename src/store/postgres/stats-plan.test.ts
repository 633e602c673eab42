import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import postgres from 'postgres';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { openPostgresStore } from './postgres-store.ts';
import { pgStatements } from './statements.ts';

// The dashboard's reads never scan the jobs tables: measured on the plans PostgreSQL runs
// (EXPLAIN ANALYZE) over 20,000 jobs in every state, in 10 queues with 4 priorities each.
// queueStats reads the kept counts and seeks jobs_ready a few times per queue; a page of jobs
// reads bounded index ranges; a job by id, its keys.

const sql = postgres(testPgUrl(), { max: 2, onnotice: () => {} });
after(() => sql.end());

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

const QUEUES = 10;
const PRIORITIES = [-1_000_000, 0, 7, 1_000_000];
const ZERO = '00000000-0000-0000-0000-000000000000';
const MAX = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** Runs `text` under EXPLAIN ANALYZE: the nodes that read jobs or jobs_finished, and how many rows they read in all. */
async function measure(schema: string, text: string, params: unknown[]): Promise<{ nodes: string[]; rows: number; plan: string; indexes: string[] }> {
  const [row] = await sql.unsafe(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params as never[]);
  const root = (row!['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan;
  const nodes: string[] = [];
  const indexes: string[] = [];
  let rows = 0;
  const walk = (n: PlanNode) => {
    if (n['Index Name']) indexes.push(n['Index Name']);
    if (n['Relation Name'] === 'jobs' || n['Relation Name'] === 'jobs_finished') {
      nodes.push(`${n['Node Type']} ${n['Index Name'] ?? ''} on ${n['Relation Name']}`.replace('  ', ' '));
      rows += (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * n['Actual Loops'];
    }
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(root);
  return { nodes, rows, indexes, plan: JSON.stringify(root, null, 1).slice(0, 6000) + ` (schema ${schema})` };
}

describe('PostgreSQL: the plans of the dashboard reads', () => {
  it('queueStats reads the kept counts and seeks jobs_ready a few times per queue; pages and gets read bounded index ranges or keys', async () => {
    const schema = uniqueSchema();
    const store = await openPostgresStore({ url: testPgUrl(), schema, poolSize: 1, notify: false });
    try {
      // 15,000 live jobs (scheduled, ready, active) and 5,000 finished ones, through the triggers like any write.
      // A third of the jobs in one of 7 groups (group_key), the rest in none.
      await sql.unsafe(`INSERT INTO ${schema}.jobs (id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, created_at, updated_at, group_key)
        SELECT gen_random_uuid(), 'q' || (i % ${QUEUES}), 'n', '{}', (ARRAY[${PRIORITIES.join(', ')}])[1 + (i / ${QUEUES}) % ${PRIORITIES.length}],
          (ARRAY['ready', 'scheduled', 'active'])[1 + (i / 7) % 3], 1000 + i, 5, 3, 0, 0, CASE WHEN i % 3 = 0 THEN 'g' || (i % 7) END
        FROM generate_series(1, 15000) i`);
      await sql.unsafe(`INSERT INTO ${schema}.jobs_finished (id, queue, name, payload, priority, state, run_at, max_attempts, max_stalls, created_at, updated_at, finished_at, group_key)
        SELECT gen_random_uuid(), 'q' || (i % ${QUEUES}), 'n', '{}', 0, (ARRAY['completed', 'dead', 'cancelled'])[1 + i % 3], i, 5, 3, 0, 0, i,
          CASE WHEN i % 3 = 0 THEN 'g' || (i % 7) END
        FROM generate_series(1, 5000) i`);
      await sql.unsafe(`INSERT INTO ${schema}.queues (name, config, created_at, updated_at) SELECT 'q' || i, '{}', 0, 0 FROM generate_series(0, ${QUEUES - 1}) i`);
      await sql.unsafe(`VACUUM ANALYZE ${schema}.jobs, ${schema}.jobs_finished`);
      const q = pgStatements(schema, 50);

      // All queues, and one; with the deltas not folded yet, and folded.
      for (const folded of [false, true]) {
        if (folded) await store.countsRollup();
        for (const [queue, queues] of [[null, QUEUES], ['q3', 1]] as const) {
          const m = await measure(schema, q.stats, [queue]);
          assert.ok(m.nodes.every((n) => n === 'Index Only Scan jobs_ready on jobs' || n === 'Index Scan jobs_ready on jobs'), `only seeks of jobs_ready: ${m.nodes.join('; ')}\n${m.plan}`);
          // Per queue: its first priority, each next lower one (the last finds none), and the first run_at of each.
          assert.ok(m.rows <= 2 * PRIORITIES.length * queues, `${m.rows} rows read from the jobs tables (at most ${2 * PRIORITIES.length * queues})\n${m.plan}`);
          assert.ok(m.rows > 0, 'the oldest ready time was read');
        }
      }
      // And the answer is the one a full count and walk would give.
      const stats = await store.queueStats(null, 100_000);
      const truth = await sql.unsafe(`SELECT queue, state, count(*)::int AS n FROM ${schema}.jobs GROUP BY 1, 2 UNION ALL SELECT queue, state, count(*)::int FROM ${schema}.jobs_finished GROUP BY 1, 2`);
      for (const t of truth) assert.equal(stats.find((s) => s.queue === t.queue)!.counts[t.state as 'ready'], t.n);
      for (const o of await sql.unsafe(`SELECT queue, min(run_at)::float8 AS at FROM ${schema}.jobs WHERE state = 'ready' GROUP BY queue`)) {
        assert.equal(stats.find((s) => s.queue === o.queue)!.oldestReadyAgeMs, 100_000 - (o.at as number));
      }

      // A page of one queue across states (the jobs view without a state filter), in one state, and jobs by id.
      const [some] = await sql.unsafe(`SELECT id FROM ${schema}.jobs LIMIT 1`);
      const reads: [string, string, unknown[], number][] = [
        ['listAll', q.listAll, ['q3', ZERO, 50, null, MAX], 6 * 50],
        ['listLive', q.listLive, ['q3', 'ready', ZERO, 50, null, MAX], 50],
        ['listFinished', q.listFinished, ['q3', 'dead', ZERO, 50, null, MAX], 50],
        ['get', q.get, [[some!.id, ZERO]], 2],
      ];
      // A page of one group ($1 queue · $2 group · $3 after · $4 to · $5 state · $6 name · $7 limit): ranges of the group indexes
      // from the cursor, the state and name filters on the group's rows alone (so at most the group's rows of the queue are read).
      const [groupRows] = await sql.unsafe(`SELECT (SELECT count(*) FROM ${schema}.jobs WHERE queue = 'q3' AND group_key = 'g2')::int AS live,
        (SELECT count(*) FROM ${schema}.jobs_finished WHERE queue = 'q3' AND group_key = 'g2')::int AS finished`);
      const groupReads: [string, string, unknown[], number, string[]][] = [
        ['listGroup all', q.listGroup('all'), ['q3', 'g2', ZERO, MAX, null, null, 50], 2 * 50, ['jobs_queue_group', 'jobs_finished_queue_group']],
        ['listGroup live', q.listGroup('live'), ['q3', 'g2', ZERO, MAX, 'ready', null, 50], groupRows!.live as number, ['jobs_queue_group']],
        ['listGroup finished', q.listGroup('finished'), ['q3', 'g2', ZERO, MAX, 'dead', 'n', 50], groupRows!.finished as number, ['jobs_finished_queue_group']],
      ];
      for (const [name, text, params, bound, indexes] of groupReads) {
        const m = await measure(schema, text, params);
        // An ordered range of the group index, or (few rows expected) a bitmap of that same range: never another index, never a Seq Scan.
        assert.ok(m.nodes.length > 0 && m.nodes.every((n) => /^(Index (Only )?Scan|Bitmap Heap Scan) /.test(n)), `${name}: by index only: ${m.nodes.join('; ')}\n${m.plan}`);
        assert.deepEqual(m.indexes, indexes, `${name}: by the group index alone\n${m.plan}`);
        assert.ok(m.rows <= bound, `${name}: ${m.rows} rows read from the jobs tables (at most ${bound})\n${m.plan}`);
      }
      for (const [name, text, params, bound] of reads) {
        const m = await measure(schema, text, params);
        assert.ok(m.nodes.length > 0 && m.nodes.every((n) => /^(Index (Only )?Scan|Bitmap Heap Scan) /.test(n)), `${name}: by index only, never a Seq Scan: ${m.nodes.join('; ')}\n${m.plan}`);
        assert.ok(m.rows <= bound, `${name}: ${m.rows} rows read from the jobs tables (at most ${bound})\n${m.plan}`);
      }
    } finally {
      await store.close();
    }
  });
});
