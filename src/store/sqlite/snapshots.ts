import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { addCounts, parseObject } from '../process-snapshots.ts';
import type { CountsByQueue, ProcessSnapshot, ProcessSnapshots } from '../store.ts';
import type { GroupCommit } from './group-commit.ts';

interface SnapshotDbRow {
  kind: 'p' | 'r';
  id: string;
  host: string;
  pid: number;
  at: number;
  counts: string;
  live: string;
}

/**
 * The `process_snapshots` table of the SQLite store (schema version 8) and the retired sums
 * (`process_counts_retired`): each process's snapshot of itself for the cluster-wide model (see
 * Store.processSnapshotPut). Writes go through the group commit; the read is one statement, so
 * it never sees a snapshot both retired and not.
 */
export class SqliteSnapshots {
  readonly #group: GroupCommit;
  readonly #s: Record<'upsert' | 'update' | 'read' | 'stale' | 'deleteStale' | 'retired' | 'retiredPut' | 'retiredPrune', StatementSync>;

  constructor(db: DatabaseSync, group: GroupCommit) {
    this.#group = group;
    this.#s = {
      upsert: db.prepare(
        `INSERT INTO process_snapshots (id, host, pid, at, counts, live) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET host = ?2, pid = ?3, at = ?4, counts = ?5, live = ?6`,
      ),
      update: db.prepare(`UPDATE process_snapshots SET host = ?2, pid = ?3, at = ?4, counts = ?5, live = ?6 WHERE id = ?1`),
      read: db.prepare(
        `SELECT 'p' AS kind, id, host, pid, at, counts, live FROM process_snapshots
         UNION ALL SELECT 'r', queue, '', 0, 0, counts, '' FROM process_counts_retired`,
      ),
      stale: db.prepare(`SELECT counts FROM process_snapshots WHERE at < ?`),
      deleteStale: db.prepare(`DELETE FROM process_snapshots WHERE at < ?`),
      retired: db.prepare(`SELECT queue, counts FROM process_counts_retired`),
      retiredPut: db.prepare(`INSERT INTO process_counts_retired (queue, counts) VALUES (?1, ?2) ON CONFLICT (queue) DO UPDATE SET counts = ?2`),
      retiredPrune: db.prepare(`DELETE FROM process_counts_retired WHERE queue NOT IN (SELECT name FROM queues)`),
    };
  }

  put(p: ProcessSnapshot, mustExist: boolean): Promise<boolean> {
    return this.#group.submit(() => {
      const args = [p.id, p.host, p.pid, p.at, JSON.stringify(p.counts), p.live] as const;
      return Number((mustExist ? this.#s.update : this.#s.upsert).run(...args).changes) === 1;
    });
  }

  read(): ProcessSnapshots {
    const rows = this.#s.read.all() as unknown as SnapshotDbRow[];
    const out: ProcessSnapshots = { processes: [], retired: {} };
    for (const r of rows) {
      if (r.kind === 'r') out.retired[r.id] = parseObject(r.counts);
      else out.processes.push({ id: r.id, host: r.host, pid: r.pid, at: r.at, counts: parseObject(r.counts), live: r.live });
    }
    return out;
  }

  retire(before: number): Promise<number> {
    return this.#group.submit(() => {
      const stale = this.#s.stale.all(before) as unknown as { counts: string }[];
      if (stale.length > 0) {
        const sums: CountsByQueue = {};
        for (const r of this.#s.retired.all() as unknown as { queue: string; counts: string }[]) sums[r.queue] = parseObject(r.counts);
        const touched = new Set<string>();
        for (const r of stale) for (const q of addCounts(sums, parseObject(r.counts))) touched.add(q);
        for (const q of touched) this.#s.retiredPut.run(q, JSON.stringify(sums[q]));
        this.#s.deleteStale.run(before);
      }
      this.#s.retiredPrune.run();
      return stale.length;
    });
  }
}
