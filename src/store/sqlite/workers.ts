import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { DeadReason, JobState } from '../../core/job.ts';
import type { ConsumerAnnouncement, ReapedJob, WorkerRegistration } from '../store.ts';
import type { CountLedger } from './count-ledger.ts';
import type { GroupCommit } from './group-commit.ts';
import { prepare } from './prepare.ts';
import { ACTIVE_ORPHANED, reapWhere } from './statements.ts';

/**
 * The `workers` table of the SQLite store (schema version 16): the processes sharing the file,
 * each renewing its registration by heartbeats, as on PostgreSQL. A process that stops beating
 * (killed, hung) is presumed dead once its registration lapses, and its leases are taken back
 * then. A process alone on the file pays a heartbeat write per interval and nothing per claim
 * (the claim's own UPDATE records the owner).
 */
export class SqliteWorkers {
  readonly #group: GroupCommit;
  readonly #counts: CountLedger;
  readonly #s: Record<'register' | 'heartbeat' | 'announce' | 'unregister' | 'anyDead' | 'reap' | 'deleteDead', StatementSync>;

  constructor(db: DatabaseSync, group: GroupCommit, counts: CountLedger, historyMax: number) {
    this.#group = group;
    this.#counts = counts;
    this.#s = {
      register: db.prepare(`INSERT INTO workers (id, host, pid, started_at, heartbeat_at, expires_at, consumers) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)
                            ON CONFLICT (id) DO UPDATE SET heartbeat_at = ?4, expires_at = ?5, consumers = ?6`),
      announce: db.prepare(`UPDATE workers SET consumers = ?2 WHERE id = ?1`),
      heartbeat: db.prepare(`UPDATE workers SET heartbeat_at = ?2, expires_at = ?3 WHERE id = ?1`),
      unregister: db.prepare(`DELETE FROM workers WHERE id = ?`),
      // A small table: cheap to ask every maintenance tick.
      anyDead: db.prepare(`SELECT EXISTS (SELECT 1 FROM workers WHERE expires_at <= ?1 AND id IS NOT ?2) AS n`),
      reap: prepare(db, reapWhere(historyMax, ACTIVE_ORPHANED)),
      deleteDead: db.prepare(`DELETE FROM workers WHERE expires_at <= ?1 AND id IS NOT ?2`),
    };
  }

  register(w: WorkerRegistration, now: number, ttlMs: number): Promise<void> {
    return this.#group.submit(() => void this.#s.register.run(w.id, w.host, w.pid, now, now + ttlMs, JSON.stringify(w.consumers ?? [])));
  }

  announce(id: string, consumers: readonly ConsumerAnnouncement[]): Promise<void> {
    return this.#group.submit(() => void this.#s.announce.run(id, JSON.stringify(consumers)));
  }

  heartbeat(id: string, now: number, ttlMs: number): Promise<boolean> {
    return this.#group.submit(() => Number(this.#s.heartbeat.run(id, now, now + ttlMs).changes) === 1);
  }

  unregister(id: string): Promise<void> {
    return this.#group.submit(() => void this.#s.unregister.run(id));
  }

  /**
   * Ends the leases of processes presumed dead (never `self`'s), at most `limit`; once none is
   * left (fewer than `limit` were found, in this same transaction), forgets those processes.
   */
  reapDead(p: { now: number; limit: number; self?: string | null | undefined }): Promise<ReapedJob[]> {
    return this.#group.submit(() => {
      const self = p.self ?? null;
      if ((this.#s.anyDead.get(p.now, self) as { n: number }).n === 0) return [];
      const rows = this.#s.reap.all(p.now, p.limit, self) as unknown as { id: string; token: number; queue: string; state: JobState; dead_reason: DeadReason | null }[];
      for (const r of rows) this.#counts.move(r.queue, 'active', r.state);
      if (rows.length < p.limit) this.#s.deleteDead.run(p.now, self);
      return rows.map((r) => ({ id: r.id, token: r.token, queue: r.queue, state: r.state, deadReason: r.dead_reason }));
    });
  }
}
