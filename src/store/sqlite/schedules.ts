import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Schedule, ScheduleDefinition } from '../../core/schedule.ts';
import type { ScheduleFiring } from '../schedule-store.ts';
import { toSchedule, type ScheduleRow } from '../schedule-rows.ts';
import type { NewJobRow } from '../store-types.ts';
import type { GroupCommit } from './group-commit.ts';
import { prepare } from './prepare.ts';

type Name = 'get' | 'insert' | 'replace' | 'count' | 'delete' | 'list' | 'pause' | 'due' | 'nextAt' | 'fire';

/**
 * The schedules table of the SQLite store (its schedule methods delegate here). Writes go
 * through the group commit, like every other write; a firing adds its jobs in the same
 * transaction as its compare-and-set, with the store's own insert (`insert`).
 */
export class SqliteSchedules {
  readonly #group: GroupCommit;
  readonly #s: Record<Name, StatementSync>;
  readonly #insert: (rows: readonly NewJobRow[]) => void;

  constructor(db: DatabaseSync, group: GroupCommit, insert: (rows: readonly NewJobRow[]) => void) {
    this.#group = group;
    this.#insert = insert;
    this.#s = {
      get: db.prepare(`SELECT * FROM schedules WHERE name = ?`),
      insert: db.prepare(`INSERT INTO schedules (name, queue, cron, timezone, every_ms, payload, job, catch_up, paused, next_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      replace: db.prepare(`UPDATE schedules SET queue = ?, cron = ?, timezone = ?, every_ms = ?, payload = ?, job = ?, catch_up = ?, paused = ?, next_at = ?,
        updated_at = max(updated_at + 1, ?) WHERE name = ?`),
      count: db.prepare(`SELECT count(*) AS n FROM schedules`),
      delete: db.prepare(`DELETE FROM schedules WHERE name = ?`),
      list: db.prepare(`SELECT * FROM schedules ORDER BY name`),
      pause: db.prepare(`UPDATE schedules SET paused = ?, next_at = ?, updated_at = max(updated_at + 1, ?) WHERE name = ?`),
      due: prepare(db, `SELECT * FROM schedules WHERE paused = 0 AND next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT ?`),
      nextAt: db.prepare(`SELECT min(next_at) AS at FROM schedules WHERE paused = 0 AND next_at IS NOT NULL`),
      // The slot's key: the row as the firing read it. last_slot only grows.
      fire: db.prepare(`UPDATE schedules SET next_at = ?, last_slot = coalesce(?, last_slot), fired = fired + ?, missed = missed + ?
        WHERE name = ? AND next_at = ? AND updated_at = ? AND paused = 0 AND (? IS NULL OR last_slot IS NULL OR last_slot < ?)`),
    };
  }

  put(def: ScheduleDefinition, nextAt: (lastSlot: number | null) => number | null, now: number, max: number): Promise<'created' | 'replaced' | 'full'> {
    return this.#group.submit(() => {
      const old = this.#s.get.get(def.name) as unknown as ScheduleRow | undefined;
      if (!old) {
        if ((this.#s.count.get() as { n: number }).n >= max) return 'full';
        this.#s.insert.run(def.name, def.queue, def.cron, def.timezone, def.everyMs, def.payload, def.job, def.catchUp, def.paused ? 1 : 0, nextAt(null), now, now);
        return 'created';
      }
      const next = nextAt(old.last_slot === null ? null : Number(old.last_slot));
      // updated_at always moves, so a firing computed from the old definition no longer applies.
      this.#s.replace.run(def.queue, def.cron, def.timezone, def.everyMs, def.payload, def.job, def.catchUp, def.paused ? 1 : 0, next, now, def.name);
      return 'replaced';
    });
  }

  delete(name: string): Promise<boolean> {
    return this.#group.submit(() => Number(this.#s.delete.run(name).changes) === 1);
  }

  async list(name?: string): Promise<Schedule[]> {
    const rows = name === undefined ? this.#s.list.all() : this.#s.get.all(name);
    return (rows as unknown as ScheduleRow[]).map(toSchedule);
  }

  setPaused(name: string, paused: boolean, nextAt: (lastSlot: number | null) => number | null, now: number): Promise<boolean> {
    return this.#group.submit(() => {
      const old = this.#s.get.get(name) as unknown as ScheduleRow | undefined;
      if (!old) return false;
      // Only a resume moves the next slot: pausing keeps it, and resuming a running schedule must not skip a slot due now.
      const next = paused || !old.paused ? old.next_at : nextAt(old.last_slot === null ? null : Number(old.last_slot));
      this.#s.pause.run(paused ? 1 : 0, next, now, name);
      return true;
    });
  }

  async due(now: number, limit: number): Promise<Schedule[]> {
    return (this.#s.due.all(now, limit) as unknown as ScheduleRow[]).map(toSchedule);
  }

  async nextAt(): Promise<number | null> {
    const at = (this.#s.nextAt.get() as { at: number | null }).at;
    return at === null ? null : Number(at);
  }

  fire(f: ScheduleFiring): Promise<boolean> {
    return this.#group.submit(() => {
      const changed = Number(this.#s.fire.run(f.nextAt, f.lastSlot, f.rows.length, f.missed, f.name, f.expectNextAt, f.expectUpdatedAt, f.lastSlot, f.lastSlot).changes);
      if (changed !== 1) return false;
      if (f.rows.length > 0) this.#insert(f.rows); // a refusal throws: the group commit rolls the firing back with it
      return true;
    });
  }
}
