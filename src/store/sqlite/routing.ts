import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { InsertReport, NewJobRow } from '../store-types.ts';
import type { PublishItem, PublishOutcome, RoutingRow, StoredBinding } from '../routing-rows.ts';
import type { GroupCommit } from './group-commit.ts';

type Name = 'version' | 'routing' | 'bindings' | 'count' | 'insert' | 'delete' | 'bump' | 'unroutedQueue' | 'unrouted';

/**
 * Topic routing on SQLite (the store's routing methods delegate here). Writes go through the
 * group commit: one writer at a time, so a publish's version check and its inserts see no
 * concurrent bind; each publish runs in its own savepoint, so one that fails (a full bounded
 * queue) takes back its copies alone.
 */
export class SqliteRouting {
  readonly #db: DatabaseSync;
  readonly #group: GroupCommit;
  readonly #s: Record<Name, StatementSync>;
  /** Inserts rows as jobsInsertMany does, inside the running group (throws to refuse them all). */
  readonly #insert: (rows: readonly NewJobRow[], report: InsertReport) => void;

  constructor(db: DatabaseSync, group: GroupCommit, insert: (rows: readonly NewJobRow[], report: InsertReport) => void) {
    this.#db = db;
    this.#group = group;
    this.#insert = insert;
    this.#s = {
      version: db.prepare(`SELECT version FROM topic_routing WHERE id = 1`),
      routing: db.prepare(`SELECT version, unrouted_queue, unrouted FROM topic_routing WHERE id = 1`),
      bindings: db.prepare(`SELECT pattern, queue, created_at FROM topic_bindings ORDER BY pattern, queue`),
      count: db.prepare(`SELECT count(*) AS n FROM topic_bindings`),
      insert: db.prepare(`INSERT INTO topic_bindings (pattern, queue, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
      delete: db.prepare(`DELETE FROM topic_bindings WHERE pattern = ? AND queue = ?`),
      bump: db.prepare(`UPDATE topic_routing SET version = version + 1 WHERE id = 1`),
      unroutedQueue: db.prepare(`UPDATE topic_routing SET unrouted_queue = ?, version = version + 1 WHERE id = 1`),
      unrouted: db.prepare(`UPDATE topic_routing SET unrouted = unrouted + 1 WHERE id = 1`),
    };
  }

  read(): Promise<RoutingRow> {
    // One read transaction: the bindings and the version are of the same moment.
    const own = !this.#db.isTransaction;
    if (own) this.#db.exec('BEGIN');
    try {
      const r = this.#s.routing.get() as { version: number; unrouted_queue: string | null; unrouted: number };
      const bindings = (this.#s.bindings.all() as { pattern: string; queue: string; created_at: number }[])
        .map((b): StoredBinding => ({ pattern: b.pattern, queue: b.queue, createdAt: b.created_at }));
      return Promise.resolve({ version: Number(r.version), bindings, unroutedQueue: r.unrouted_queue, unrouted: Number(r.unrouted) });
    } finally {
      if (own) this.#db.exec('COMMIT');
    }
  }

  put(p: { pattern: string; queue: string; now: number; max: number }): Promise<boolean> {
    return this.#group.submit(() => {
      if (Number(this.#s.insert.run(p.pattern, p.queue, p.now).changes) === 0) return false; // already there: never refused
      // Counted after the insert; a refusal throws, and the savepoint takes the insert back.
      if (Number((this.#s.count.get() as { n: number }).n) > p.max) {
        throw new InvalidArgumentError('pattern', `the store already holds ${p.max} bindings (bindingsMax): unbind one, or raise the setting`);
      }
      this.#s.bump.run();
      return true;
    });
  }

  delete(p: { pattern: string; queue: string }): Promise<boolean> {
    return this.#group.submit(() => {
      if (Number(this.#s.delete.run(p.pattern, p.queue).changes) === 0) return false;
      this.#s.bump.run();
      return true;
    });
  }

  setUnroutedQueue(queue: string | null): Promise<void> {
    return this.#group.submit(() => void this.#s.unroutedQueue.run(queue));
  }

  publishEach(items: readonly PublishItem[]): Promise<PublishOutcome[]> {
    // Each publish is its own operation of the group: its own savepoint, its own outcome.
    return Promise.all(items.map((item) => this.#group.submit((): PublishOutcome => {
      if (Number((this.#s.version.get() as { version: number }).version) !== item.version) return { status: 'stale' };
      const report: InsertReport = { dropped: {} };
      if (item.rows.length > 0) this.#insert(item.rows, report);
      if (item.unrouted) this.#s.unrouted.run();
      return Object.keys(report.dropped).length > 0 ? { status: 'stored', dropped: report.dropped } : { status: 'stored' };
    }).catch((err: unknown): PublishOutcome => ({ status: 'error', error: err as Error }))));
  }
}
