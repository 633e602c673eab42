import { decideFlow, FLOW_WAIT_AT, type FlowRule, type FlowState } from '../../core/flow.ts';
import type { Job } from '../../core/job.ts';
import type { FlowSelection, FlowSettled, NewFlow, StoredFlow } from '../flow-store.ts';
import { keyFollowsRunAt, mustSettle, type FlowTally } from '../flow-rows.ts';
import { NIL_ID } from '../payload-search.ts';
import { insertManyInTx, type PgInsertContext } from './inserts.ts';
import type { TxExecutor } from './pg-client.ts';
import { insertField, pgRowToJob, type PgJobRow } from './rows.ts';
import { finishOf } from './statement-parts.ts';

/**
 * Flows on PostgreSQL (docs/flows.md; the store's flow methods delegate here). A settling locks
 * the rows of the flows it looks at (FOR UPDATE, in parent id order): two processes never settle
 * one flow at once, and one that waited for the lock reads the children as the other left them.
 */

interface FlowRow { parent_id: string; queue: string; rule: FlowRule; state: FlowState; created_at: number; settled_at: number | null }

const WAITING_PARENT = `state = 'scheduled' AND run_at = ${FLOW_WAIT_AT}`;

export async function flowInsert(ctx: PgInsertContext, flow: NewFlow): Promise<void> {
  const { parent, children, rule } = flow;
  const s = ctx.schema;
  await ctx.run(() => ctx.transaction(async (tx) => {
    await insertManyInTx(ctx, tx, [parent, ...children]);
    await tx.q(`INSERT INTO ${s}.flows (parent_id, queue, rule, state, created_at) VALUES ($1, $2, $3, 'waiting', $4)`, [parent.id, parent.queue, rule, parent.createdAt]);
    await tx.q(`INSERT INTO ${s}.flow_children (child_id, parent_id, position, queue, name)
      SELECT c, $2::uuid, o - 1, q, n FROM unnest($1::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS t(c, q, n, o)`,
    [children.map((c) => c.id), parent.id, children.map((c) => c.queue), children.map((c) => c.name)]);
  }), 'add a flow', insertField);
}

export async function flowsSettle(ctx: PgInsertContext, select: FlowSelection, now: number): Promise<{ settled: FlowSettled[]; next: string | null }> {
  const s = ctx.schema;
  return ctx.run(() => ctx.transaction(async (tx) => {
    let rows: FlowRow[];
    let next: string | null = null;
    if ('after' in select) {
      rows = await tx.q(`SELECT * FROM ${s}.flows WHERE state = 'waiting' AND parent_id > $1::uuid ORDER BY parent_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [select.after === '' ? NIL_ID : select.after, select.limit]) as unknown as FlowRow[];
      if (rows.length === select.limit) next = rows[rows.length - 1]!.parent_id;
    } else if ('parents' in select) {
      rows = await tx.q(`SELECT * FROM ${s}.flows WHERE parent_id = ANY($1::uuid[]) AND state = 'waiting' ORDER BY parent_id FOR UPDATE`, [select.parents as string[]]) as unknown as FlowRow[];
    } else {
      rows = await tx.q(`SELECT * FROM ${s}.flows WHERE state = 'waiting'
          AND parent_id IN (SELECT parent_id FROM ${s}.flow_children WHERE child_id = ANY($1::uuid[])) ORDER BY parent_id FOR UPDATE`, [select.children as string[]]) as unknown as FlowRow[];
    }
    const settled: FlowSettled[] = [];
    for (const r of rows) {
      const state = await settleOne(ctx, tx, r, now);
      if (state !== null) settled.push({ parentId: r.parent_id, queue: r.queue, state });
    }
    return { settled, next };
  }), 'settle flows');
}

async function settleOne(ctx: PgInsertContext, tx: TxExecutor, r: FlowRow, now: number): Promise<Exclude<FlowState, 'waiting'> | null> {
  const s = ctx.schema;
  const [tally] = await tx.q(`SELECT (SELECT count(*) FROM ${s}.jobs WHERE id = $1 AND ${WAITING_PARENT})::int AS waiting,
      count(*) FILTER (WHERE l.id IS NOT NULL)::int AS live,
      count(*) FILTER (WHERE l.id IS NULL AND (f.id IS NULL OR f.state IN ('dead', 'cancelled')))::int AS failed
    FROM ${s}.flow_children c LEFT JOIN ${s}.jobs l ON l.id = c.child_id LEFT JOIN ${s}.jobs_finished f ON f.id = c.child_id
    WHERE c.parent_id = $1`, [r.parent_id]);
  if (!mustSettle(r.rule, tally as unknown as FlowTally)) return null;
  const kids = await tx.q(`SELECT child_id, queue, name FROM ${s}.flow_children WHERE parent_id = $1 ORDER BY position`, [r.parent_id]) as unknown as { child_id: string; queue: string; name: string }[];
  const jobs = await readJobs(ctx, tx, [r.parent_id, ...kids.map((k) => k.child_id)]);
  const children = kids.map((k) => ({ id: k.child_id, queue: k.queue, name: k.name, job: jobs.get(k.child_id) ?? null }));
  const d = decideFlow(r.rule, jobs.get(r.parent_id) ?? null, children);
  if (d.kind === 'wait') return null;
  const results = d.kind === 'ended' ? null : JSON.stringify(d.childResults);
  if (d.kind === 'ready') {
    const config = (await tx.q(`SELECT config FROM ${s}.queues WHERE name = $1`, [r.queue]))[0]?.config;
    await tx.q(`UPDATE ${s}.jobs SET state = 'ready', run_at = $1::int8, updated_at = $1::int8, child_results = $2::jsonb,
        sort_key = CASE WHEN $3::boolean AND sort_key IS NOT NULL THEN sort_key - run_at + $1::int8 ELSE sort_key END
      WHERE id = $4 AND ${WAITING_PARENT}`, [now, results, keyFollowsRunAt(config), r.parent_id]);
    if (ctx.notifyChannel) await tx.q(`SELECT pg_notify($1, $2)`, [ctx.notifyChannel, r.queue]);
  } else if (d.kind === 'failed') {
    await tx.q(`UPDATE ${s}.jobs SET child_results = $2::jsonb, last_error = $3 WHERE id = $1 AND ${WAITING_PARENT}`, [r.parent_id, results, d.error]);
    await tx.q(`WITH moved AS (DELETE FROM ${s}.jobs WHERE id = $1 AND ${WAITING_PARENT} RETURNING *)
      ${finishOf(s)('dead', '$2::int8', 'history', 'last_error', 'NULL::jsonb', `'child-failed'`)}`, [r.parent_id, now]);
  }
  await tx.q(`UPDATE ${s}.flows SET state = $2, settled_at = $3 WHERE parent_id = $1`, [r.parent_id, d.kind, now]);
  return d.kind;
}

async function readJobs(ctx: PgInsertContext, tx: TxExecutor, ids: string[]): Promise<Map<string, Job>> {
  const rows = await tx.q(ctx.q.get, [ids]) as unknown as PgJobRow[];
  return new Map(rows.map((row) => [row.id, pgRowToJob(row)]));
}

export async function flowRead(ctx: PgInsertContext, parentId: string): Promise<StoredFlow | null> {
  const s = ctx.schema;
  return ctx.run(async () => {
    const r = (await ctx.db.q(`SELECT * FROM ${s}.flows WHERE parent_id = $1`, [parentId]))[0] as unknown as FlowRow | undefined;
    if (!r) return null;
    const kids = await ctx.db.q(`SELECT child_id, queue, name FROM ${s}.flow_children WHERE parent_id = $1 ORDER BY position`, [parentId]) as unknown as { child_id: string; queue: string; name: string }[];
    const children = kids.map((c) => ({ id: c.child_id, queue: c.queue, name: c.name }));
    return { parentId, queue: r.queue, rule: r.rule, state: r.state, createdAt: r.created_at, settledAt: r.settled_at, children };
  }, 'read a flow');
}

export async function flowsForget(ctx: PgInsertContext, limit: number): Promise<number> {
  const s = ctx.schema;
  const rows = await ctx.run(() => ctx.db.q(`WITH gone AS (
      DELETE FROM ${s}.flows WHERE parent_id IN (SELECT parent_id FROM ${s}.flows f WHERE state <> 'waiting'
        AND NOT EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.id = f.parent_id)
        AND NOT EXISTS (SELECT 1 FROM ${s}.jobs_finished j WHERE j.id = f.parent_id) LIMIT $1)
      RETURNING parent_id),
    c AS (DELETE FROM ${s}.flow_children WHERE parent_id IN (SELECT parent_id FROM gone))
    SELECT count(*)::int AS n FROM gone`, [limit]), 'forget finished flows');
  return (rows[0]?.n as number | undefined) ?? 0;
}
