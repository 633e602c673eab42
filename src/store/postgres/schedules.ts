import type { Schedule, ScheduleDefinition } from '../../core/schedule.ts';
import type { ScheduleFiring } from '../schedule-store.ts';
import { toSchedule, type ScheduleRow } from '../schedule-rows.ts';
import type { Store } from '../store.ts';
import type { PgContext } from './cluster.ts';
import { insertManyInTx, type PgInsertContext } from './inserts.ts';
import { insertField } from './rows.ts';

/**
 * The schedules table of the PostgreSQL store (its schedule methods delegate here). Every
 * process sharing the schema fires the schedules due; the compare-and-set of a firing locks the
 * row, so of two processes firing one slot the second waits, sees the row moved on, and adds nothing.
 */

const COLUMNS = 'name, queue, cron, timezone, every_ms, payload, job, catch_up, paused, next_at, last_slot, fired, missed, created_at, updated_at';

type NextAt = (lastSlot: number | null) => number | null;

export function schedulePut(ctx: PgContext<Store>, def: ScheduleDefinition, nextAt: NextAt, now: number, max: number): Promise<'created' | 'replaced' | 'full'> {
  const s = ctx.schema;
  return ctx.run(() => ctx.transaction(async (tx) => {
    // One writer of schedules at a time: the count checked against `max` stays true until commit.
    await tx.q(`LOCK TABLE ${s}.schedules IN SHARE ROW EXCLUSIVE MODE`);
    const old = (await tx.q(`SELECT last_slot FROM ${s}.schedules WHERE name = $1`, [def.name]))[0] as { last_slot: string | number | null } | undefined;
    const params = [def.name, def.queue, def.cron, def.timezone, def.everyMs, def.payload, def.job, def.catchUp, def.paused];
    if (!old) {
      const n = Number((await tx.q(`SELECT count(*)::int8 AS n FROM ${s}.schedules`))[0]!.n);
      if (n >= max) return 'full';
      await tx.q(`INSERT INTO ${s}.schedules (name, queue, cron, timezone, every_ms, payload, job, catch_up, paused, next_at, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`, [...params, nextAt(null), now]);
      return 'created';
    }
    const next = nextAt(old.last_slot === null ? null : Number(old.last_slot));
    // updated_at always moves, so a firing computed from the old definition no longer applies.
    await tx.q(`UPDATE ${s}.schedules SET queue = $2, cron = $3, timezone = $4, every_ms = $5, payload = $6, job = $7, catch_up = $8, paused = $9,
      next_at = $10, updated_at = greatest(updated_at + 1, $11) WHERE name = $1`, [...params, next, now]);
    return 'replaced';
  }), `save schedule ${def.name}`);
}

export async function scheduleDelete(ctx: PgContext<Store>, name: string): Promise<boolean> {
  const rows = await ctx.run(() => ctx.db.q(`DELETE FROM ${ctx.schema}.schedules WHERE name = $1 RETURNING name`, [name]), `delete schedule ${name}`);
  return rows.length === 1;
}

export async function schedules(ctx: PgContext<Store>, name?: string): Promise<Schedule[]> {
  const rows = await ctx.run(
    () => ctx.db.q(`SELECT ${COLUMNS} FROM ${ctx.schema}.schedules WHERE $1::text IS NULL OR name = $1 ORDER BY name`, [name ?? null]),
    'read schedules',
  );
  return (rows as unknown as ScheduleRow[]).map(toSchedule);
}

export function scheduleSetPaused(ctx: PgContext<Store>, name: string, paused: boolean, nextAt: NextAt, now: number): Promise<boolean> {
  const s = ctx.schema;
  return ctx.run(() => ctx.transaction(async (tx) => {
    const old = (await tx.q(`SELECT next_at, last_slot, paused FROM ${s}.schedules WHERE name = $1 FOR UPDATE`, [name]))[0] as
      { next_at: string | number | null; last_slot: string | number | null; paused: boolean } | undefined;
    if (!old) return false;
    // Only a resume moves the next slot: pausing keeps it, and resuming a running schedule must not skip a slot due now.
    const next = paused || !old.paused ? old.next_at : nextAt(old.last_slot === null ? null : Number(old.last_slot));
    await tx.q(`UPDATE ${s}.schedules SET paused = $2, next_at = $3, updated_at = greatest(updated_at + 1, $4) WHERE name = $1`, [name, paused, next, now]);
    return true;
  }), `${paused ? 'pause' : 'resume'} schedule ${name}`);
}

export async function schedulesDue(ctx: PgContext<Store>, now: number, limit: number): Promise<Schedule[]> {
  const rows = await ctx.run(
    () => ctx.db.q(`SELECT ${COLUMNS} FROM ${ctx.schema}.schedules WHERE NOT paused AND next_at IS NOT NULL AND next_at <= $1 ORDER BY next_at LIMIT $2`, [now, limit]),
    'read schedules due',
  );
  return (rows as unknown as ScheduleRow[]).map(toSchedule);
}

export async function schedulesNextAt(ctx: PgContext<Store>): Promise<number | null> {
  const rows = await ctx.run(() => ctx.db.q(`SELECT min(next_at) AS at FROM ${ctx.schema}.schedules WHERE NOT paused AND next_at IS NOT NULL`), 'read the next schedule slot');
  const at = rows[0]?.at as string | number | null | undefined;
  return at === null || at === undefined ? null : Number(at);
}

export function scheduleFire(ctx: PgInsertContext, f: ScheduleFiring): Promise<boolean> {
  return ctx.run(() => ctx.transaction(async (tx) => {
    // The slot's key: the row as the firing read it. The UPDATE locks the row; a concurrent
    // firing of the same slot waits here, then finds next_at moved and changes nothing.
    const changed = await tx.q(`UPDATE ${ctx.schema}.schedules SET next_at = $1, last_slot = coalesce($2, last_slot), fired = fired + $3, missed = missed + $4
      WHERE name = $5 AND next_at = $6 AND updated_at = $7 AND NOT paused AND ($2::int8 IS NULL OR last_slot IS NULL OR last_slot < $2::int8) RETURNING name`,
      [f.nextAt, f.lastSlot, f.rows.length, f.missed, f.name, f.expectNextAt, f.expectUpdatedAt]);
    if (changed.length !== 1) return false;
    await insertManyInTx(ctx, tx, f.rows);
    return true;
  }), `fire schedule ${f.name}`, insertField);
}
