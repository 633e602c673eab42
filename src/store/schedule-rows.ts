/** The schedules table's rows as both drivers read them. */
import type { CatchUp, Schedule } from '../core/schedule.ts';

export interface ScheduleRow {
  name: string;
  queue: string;
  cron: string | null;
  timezone: string | null;
  every_ms: number | string | null;
  payload: string;
  job: string;
  catch_up: CatchUp;
  paused: number | boolean;
  next_at: number | string | null;
  last_slot: number | string | null;
  fired: number | string;
  missed: number | string;
  created_at: number | string;
  updated_at: number | string;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toSchedule(r: ScheduleRow): Schedule {
  return {
    name: r.name, queue: r.queue, cron: r.cron, timezone: r.timezone, everyMs: num(r.every_ms),
    payload: JSON.parse(r.payload) as unknown, job: JSON.parse(r.job) as Schedule['job'],
    catchUp: r.catch_up, paused: r.paused === true || r.paused === 1,
    nextAt: num(r.next_at), lastSlot: num(r.last_slot), fired: Number(r.fired), missed: Number(r.missed),
    createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
  };
}
