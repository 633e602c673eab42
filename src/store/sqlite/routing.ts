import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { InsertReport, NewJobRow } from '../store-types.ts';
import type { PublishItem, PublishOutcome, RoutingRow, StoredBinding } from '../routing-rows.ts';
import type { CountLedger } from './count-ledger.ts';
import type { GroupCommit } from './group-commit.ts';
import { translateSqliteError } from './sqlite-errors.ts';

type Name = 'version' | 'routing' | 'bindings' | 'count' | 'insert' | 'delete' | 'bump' | 'unroutedQueue' | 'unrouted';

/**
 * Topic routing on SQLite (the store's routing methods delegate here). Writes go through the
 * group commit: one writer at a time, so a publish's version check and its inserts see no
 * concurrent bind; a publish that fails (a full bounded queue) takes back its copies alone.
 */
export class SqliteRouting {
  readonly #db: DatabaseSync;
  readonly #group: GroupCommit;
  /** The job counts: a publish's savepoint rolled back drops what its inserts noted. */
  readonly #counts: CountLedger;
  readonly #s: Record<Name, StatementSync>;
  /** Inserts rows as jobsInsertMany does, inside the running group (throws to refuse them all). */
  readonly #insert: (rows: readonly NewJobRow[], report: InsertReport) => void;

  constructor(db: DatabaseSync, group: GroupCommit, counts: CountLedger, insert: (rows: readonly NewJobRow[], report: InsertReport) => void) {
    this.#db = db;
    this.#group = group;
    this.#counts = counts;
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
      unrouted: db.prepare(`UPDATE topic_routing SET unrouted = unrouted + ? WHERE id = 1`),
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

  /**
   * The publishes of a tick, in one operation of the group: the version is read once; the
   * publishes routed by it (none to a bounded queue) are written together in one savepoint, and
   * if that fails, each in a savepoint of its own, so one refused publish fails alone. A
   * publish to a bounded queue always has its own (its bound settled on its own rows).
   */
  publishEach(items: readonly PublishItem[]): Promise<PublishOutcome[]> {
    return this.#group.submit((): PublishOutcome[] => {
      const version = Number((this.#s.version.get() as { version: number }).version);
      const out = new Array<PublishOutcome>(items.length);
      const fresh: number[] = [];
      items.forEach((it, i) => (it.version === version ? fresh.push(i) : (out[i] = { status: 'stale' })));
      const together = fresh.length > 1 && !fresh.some((i) => items[i]!.rows.some((r) => r.bound));
      if (together && this.#alone(() => this.#write(fresh.map((i) => items[i]!))).status === 'stored') {
        for (const i of fresh) out[i] = { status: 'stored' };
        return out;
      }
      for (const i of fresh) out[i] = this.#alone(() => this.#write([items[i]!]));
      return out;
    });
  }

  /** Writes the rows of `items` and counts the unrouted ones; throws to refuse them all. */
  #write(items: readonly PublishItem[]): Record<string, number> {
    const report: InsertReport = { dropped: {} };
    const rows = items.length === 1 ? items[0]!.rows : items.flatMap((it) => it.rows);
    if (rows.length > 0) this.#insert(rows, report);
    const unrouted = items.filter((it) => it.unrouted).length;
    if (unrouted > 0) this.#s.unrouted.run(unrouted);
    return report.dropped;
  }

  /** Runs `write` in a savepoint of its own within the group's operation, with its counts kept or dropped with it. */
  #alone(write: () => Record<string, number>): PublishOutcome {
    this.#db.exec('SAVEPOINT publish');
    try {
      const dropped = write();
      this.#db.exec('RELEASE publish');
      this.#counts.opKept();
      return Object.keys(dropped).length > 0 ? { status: 'stored', dropped } : { status: 'stored' };
    } catch (err) {
      // Disk full or an I/O error ends the transaction: the group fails as one.
      if (!this.#db.isTransaction) throw err;
      this.#db.exec('ROLLBACK TO publish');
      this.#db.exec('RELEASE publish');
      this.#counts.opDropped();
      return { status: 'error', error: translateSqliteError(err, 'publish') as Error };
    }
  }
}
