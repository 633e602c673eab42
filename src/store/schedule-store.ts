/**
 * The schedules table of a store: cron and repeat schedules with their next slot. Part of
 * {@link Store}; kept apart because it is its own subject. Every process with maintenance fires
 * the schedules due; the store makes each slot's job exist once (see scheduleFire).
 */
import type { Schedule, ScheduleDefinition } from '../core/schedule.ts';
import type { NewJobRow } from './store-types.ts';

/** One firing of a schedule, as a process computed it from the row it read. */
export interface ScheduleFiring {
  name: string;
  /** The row's `nextAt` and `updatedAt` as read: the firing applies only while both are unchanged. */
  expectNextAt: number;
  expectUpdatedAt: number;
  /** The schedule's next slot after this firing (later than every slot it adds), or null: none. */
  nextAt: number | null;
  /** The latest slot this firing adds a job for, or null (it adds none). */
  lastSlot: number | null;
  /** Slots missed (older than the grace) that this firing steps over. */
  missed: number;
  /** The jobs to add, one per slot fired. */
  rows: readonly NewJobRow[];
}

export interface ScheduleStore {
  /**
   * Saves a schedule: a new name, or a replacement (which keeps its counts and latest slot).
   * `nextAt` is the first slot after now; a replacement moves it past the latest slot fired, so
   * a slot never gets a second job. A new schedule beyond `max` is refused ('full').
   */
  schedulePut(def: ScheduleDefinition, nextAt: (lastSlot: number | null) => number | null, now: number, max: number): Promise<'created' | 'replaced' | 'full'>;
  /** Deletes a schedule; false when there was none. */
  scheduleDelete(name: string): Promise<boolean>;
  /** Every schedule, by name; or the one named. */
  schedules(name?: string): Promise<Schedule[]>;
  /**
   * Pauses or resumes a schedule; resuming a paused one sets its next slot from `nextAt` (given
   * its latest slot fired): slots that passed while it was paused get no job. Pausing, or resuming
   * one not paused, keeps its next slot. False when there is none.
   */
  scheduleSetPaused(name: string, paused: boolean, nextAt: (lastSlot: number | null) => number | null, now: number): Promise<boolean>;
  /** Up to `limit` schedules not paused whose next slot is at or before `now`, earliest first. */
  schedulesDue(now: number, limit: number): Promise<Schedule[]>;
  /** The earliest next slot of any schedule not paused, or null. */
  schedulesNextAt(): Promise<number | null>;
  /**
   * Applies one firing atomically: only if the schedule still has the next slot and update time
   * the firing read (a compare-and-set on its row), moves it to `nextAt` and, in the same
   * transaction, adds the jobs (as jobsInsertMany does, creating the queue if needed). Returns
   * whether it applied: of processes firing the same slot, one applies and the others add
   * nothing, so each slot has exactly one job whatever the number of processes or their crashes.
   */
  scheduleFire(firing: ScheduleFiring): Promise<boolean>;
}
