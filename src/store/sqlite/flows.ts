import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { decideFlow, FLOW_WAIT_AT, type FlowRule, type FlowState } from '../../core/flow.ts';
import type { FlowSelection, FlowSettled, NewFlow, StoredFlow } from '../flow-store.ts';
import { keyFollowsRunAt, mustSettle, type FlowTally } from '../flow-rows.ts';
import type { NewJobRow } from '../store-types.ts';
import type { CountLedger } from './count-ledger.ts';
import type { GroupCommit } from './group-commit.ts';
import { prepare } from './prepare.ts';
import { rowToJob, type JobRow } from './rows.ts';

type Name = 'tally' | 'flowInsert' | 'childInsert' | 'byParent' | 'byChild' | 'page' | 'flow' | 'children' | 'job' | 'queueConfig' | 'ready' | 'dead' | 'state' | 'forget' | 'forgetChildren';

interface FlowRow { parent_id: string; queue: string; rule: FlowRule; state: FlowState; created_at: number; settled_at: number | null }

const WAITING_PARENT = `id = ?4 AND state = 'scheduled' AND run_at = ${FLOW_WAIT_AT}`;

/**
 * Flows on SQLite (docs/flows.md; the store's flow methods delegate here). Every write goes
 * through the group commit, one writer at a time: a settling reads the parent and the children
 * and changes the parent in one transaction, with nothing written between.
 */
export class SqliteFlows {
  readonly #group: GroupCommit;
  readonly #counts: CountLedger;
  readonly #s: Record<Name, StatementSync>;
  /** Inserts rows as jobsInsertMany does, inside the running group (throws to refuse them all). */
  readonly #insert: (rows: readonly NewJobRow[]) => void;

  constructor(db: DatabaseSync, group: GroupCommit, counts: CountLedger, insert: (rows: readonly NewJobRow[]) => void, getJob: StatementSync) {
    this.#group = group;
    this.#counts = counts;
    this.#insert = insert;
    const p = (sql: string) => prepare(db, sql);
    this.#s = {
      tally: p(`SELECT (SELECT count(*) FROM jobs WHERE id = ?1 AND state = 'scheduled' AND run_at = ${FLOW_WAIT_AT}) AS waiting,
                  coalesce(sum(j.state IN ('scheduled', 'ready', 'active')), 0) AS live,
                  coalesce(sum(j.id IS NULL OR j.state IN ('dead', 'cancelled')), 0) AS failed
                FROM flow_children c LEFT JOIN jobs j ON j.id = c.child_id WHERE c.parent_id = ?1`),
      flowInsert: p(`INSERT INTO flows (parent_id, queue, rule, state, created_at) VALUES (?, ?, ?, 'waiting', ?)`),
      childInsert: p(`INSERT INTO flow_children (child_id, parent_id, position, queue, name) VALUES (?, ?, ?, ?, ?)`),
      byParent: p(`SELECT * FROM flows WHERE parent_id = ? AND state = 'waiting'`),
      byChild: p(`SELECT f.* FROM flow_children c JOIN flows f ON f.parent_id = c.parent_id WHERE c.child_id = ? AND f.state = 'waiting'`),
      page: p(`SELECT * FROM flows INDEXED BY flows_waiting WHERE state = 'waiting' AND parent_id > ? ORDER BY parent_id LIMIT ?`),
      flow: p(`SELECT * FROM flows WHERE parent_id = ?`),
      children: p(`SELECT child_id, queue, name FROM flow_children WHERE parent_id = ? ORDER BY position`),
      job: getJob,
      queueConfig: p(`SELECT config FROM queues WHERE name = ?`),
      // ?1 now · ?2 child results (JSON) · ?3 1 when the queue's sort key follows the run time · ?4 the parent
      ready: p(`UPDATE jobs SET state = 'ready', run_at = ?1, updated_at = ?1, child_results = ?2,
                  sort_key = CASE WHEN ?3 = 1 AND sort_key IS NOT NULL THEN sort_key - run_at + ?1 ELSE sort_key END
                WHERE ${WAITING_PARENT}`),
      // ?1 now · ?2 child results (JSON) · ?3 the error · ?4 the parent
      dead: p(`UPDATE jobs SET state = 'dead', dead_reason = 'child-failed', last_error = ?3, finished_at = ?1, updated_at = ?1, child_results = ?2
               WHERE ${WAITING_PARENT}`),
      state: p(`UPDATE flows SET state = ?, settled_at = ? WHERE parent_id = ?`),
      forget: p(`DELETE FROM flows WHERE parent_id IN (SELECT parent_id FROM flows f WHERE state <> 'waiting'
                   AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = f.parent_id) LIMIT ?) RETURNING parent_id`),
      forgetChildren: p(`DELETE FROM flow_children WHERE parent_id = ?`),
    };
  }

  insert(flow: NewFlow): Promise<void> {
    return this.#group.submit(() => {
      const { parent, children, rule } = flow;
      this.#insert([parent, ...children]);
      this.#s.flowInsert.run(parent.id, parent.queue, rule, parent.createdAt);
      children.forEach((c, i) => this.#s.childInsert.run(c.id, parent.id, i, c.queue, c.name));
    });
  }

  settle(select: FlowSelection, now: number): Promise<{ settled: FlowSettled[]; next: string | null }> {
    return this.#group.submit(() => {
      let rows: FlowRow[];
      let next: string | null = null;
      if ('after' in select) {
        rows = this.#s.page.all(select.after, select.limit) as unknown as FlowRow[];
        if (rows.length === select.limit) next = rows[rows.length - 1]!.parent_id;
      } else {
        const [ids, stmt] = 'parents' in select ? [select.parents, this.#s.byParent] : [select.children, this.#s.byChild];
        const seen = new Map<string, FlowRow>();
        for (const id of ids) {
          const r = stmt.get(id) as FlowRow | undefined;
          if (r) seen.set(r.parent_id, r);
        }
        rows = [...seen.values()];
      }
      const settled: FlowSettled[] = [];
      for (const r of rows) {
        const state = this.#settleOne(r, now);
        if (state !== null) settled.push({ parentId: r.parent_id, queue: r.queue, state });
      }
      return { settled, next };
    });
  }

  #settleOne(r: FlowRow, now: number): Exclude<FlowState, 'waiting'> | null {
    if (!mustSettle(r.rule, this.#s.tally.get(r.parent_id) as unknown as FlowTally)) return null;
    const parent = this.#job(r.parent_id);
    const children = (this.#s.children.all(r.parent_id) as { child_id: string; queue: string; name: string }[])
      .map((c) => ({ id: c.child_id, queue: c.queue, name: c.name, job: this.#job(c.child_id) }));
    const d = decideFlow(r.rule, parent, children);
    if (d.kind === 'wait') return null;
    if (d.kind === 'ready') {
      const config = (this.#s.queueConfig.get(r.queue) as { config: string } | undefined)?.config;
      this.#s.ready.run(now, JSON.stringify(d.childResults), keyFollowsRunAt(config === undefined ? null : JSON.parse(config)) ? 1 : 0, r.parent_id);
      this.#counts.move(r.queue, 'scheduled', 'ready');
    } else if (d.kind === 'failed') {
      this.#s.dead.run(now, JSON.stringify(d.childResults), d.error, r.parent_id);
      this.#counts.move(r.queue, 'scheduled', 'dead');
    }
    this.#s.state.run(d.kind, now, r.parent_id);
    return d.kind;
  }

  #job(id: string) {
    const row = this.#s.job.get(id) as unknown as JobRow | undefined;
    return row ? rowToJob(row) : null;
  }

  read(parentId: string): StoredFlow | null {
    const r = this.#s.flow.get(parentId) as FlowRow | undefined;
    if (!r) return null;
    const children = (this.#s.children.all(parentId) as { child_id: string; queue: string; name: string }[]).map((c) => ({ id: c.child_id, queue: c.queue, name: c.name }));
    return { parentId, queue: r.queue, rule: r.rule, state: r.state, createdAt: r.created_at, settledAt: r.settled_at, children };
  }

  forget(limit: number): Promise<number> {
    return this.#group.submit(() => {
      const gone = this.#s.forget.all(limit) as { parent_id: string }[];
      for (const g of gone) this.#s.forgetChildren.run(g.parent_id);
      return gone.length;
    });
  }
}
