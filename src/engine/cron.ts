import type { Clock, TimerHandle } from '../core/clock.ts';
import { InvalidArgumentError, ScheduleNotFoundError } from '../core/errors.ts';
import { queueBound } from '../core/queue-config.ts';
import { checkSchedule, checkScheduleName, slotsOf, type Schedule, type ScheduleJobOptions, type Slots } from '../core/schedule.ts';
import type { NewJobRow, Store } from '../store/store.ts';
import { applyQueueDefaults, buildJobRows } from './inputs.ts';
import type { EngineSettings } from './options.ts';
import type { QueueSettings } from './queue-settings.ts';

export interface CronDeps {
  store: Store;
  clock: Clock;
  settings: EngineSettings;
  queues: QueueSettings;
  /** Jobs were added to `queue` (ready now): wake its consumers, count them. */
  added(queue: string, count: number): void;
  reportError(err: unknown, during: string): void;
}

/** Schedules read per store call when firing; more due at once are fired by the next pass, at once. */
const DUE_BATCH = 100;
/** Missed slots of a cron expression counted per firing (everyMs ones are counted exactly). */
const MISSED_COUNT_MAX = 10_000;

/** What one firing of a schedule adds and steps over, from its next slot `from` at `now`. */
export interface SlotPlan {
  /** The slots that get a job, in order. */
  slots: number[];
  /** Slots stepped over without a job (older than the grace). */
  missed: number;
  /** The next slot after `now`. */
  nextAt: number | null;
}

/**
 * Plans a firing: slots from `from` up to `now` within `graceMs` each get a job; older ones are
 * missed, and `run-once` gives the latest missed one a job. At most graceMs / 1 s + 1 slots are
 * fired (a slot is at least a second from the next: cron's precision, everyMs's minimum), and
 * however long the downtime, the next slot is found without walking the ones in between.
 */
export function planSlots(slots: Slots, s: Pick<Schedule, 'everyMs' | 'catchUp'>, from: number, now: number, graceMs: number): SlotPlan {
  const graceStart = now - graceMs;
  const fired: number[] = [];
  let missed = 0;
  let first: number | null = from;
  if (from < graceStart) {
    if (s.everyMs !== null) missed = Math.ceil((graceStart - from) / s.everyMs);
    else for (let t: number | null = from; t !== null && t < graceStart && missed < MISSED_COUNT_MAX; t = slots.after(t)) missed++;
    if (s.catchUp === 'run-once') {
      const latest = slots.before(graceStart);
      fired.push(latest === null || latest < from ? from : latest);
      missed--; // that one gets its job
    }
    first = slots.after(graceStart - 1);
  }
  for (let t = first; t !== null && t <= now; t = slots.after(t)) fired.push(t);
  return { slots: fired, missed, nextAt: slots.after(Math.max(now, fired.at(-1) ?? -Infinity)) };
}

/**
 * Cron and repeat schedules in one engine: the calls that keep them, and the firing. Every
 * process with maintenance fires them: a timer armed at the earliest next slot in the store
 * (read again at least every maintenance interval, so schedules another process added are seen),
 * and at once after a change made here. Which process fires a slot does not matter: the store
 * applies one firing per slot (Store.scheduleFire), so each slot has one job.
 */
export class Cron {
  readonly #d: CronDeps;
  #timer: TimerHandle | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;

  constructor(deps: CronDeps) {
    this.#d = deps;
  }

  async set(name: string, input: unknown): Promise<Schedule> {
    const { store, clock, settings } = this.#d;
    const def = checkSchedule(name, input, settings.payloadMaxBytes);
    const slots = slotsOf(def);
    const now = clock.now();
    const outcome = await store.schedulePut(def, (last) => slots.after(Math.max(now, last ?? -Infinity)), now, settings.cron.schedulesMax);
    if (outcome === 'full') {
      throw new InvalidArgumentError('name', `the store already holds ${settings.cron.schedulesMax} schedules (schedulesMax): delete one, or raise the setting`);
    }
    this.#changed();
    return this.get(def.name);
  }

  async get(name: string): Promise<Schedule> {
    const [s] = await this.#d.store.schedules(checkScheduleName(name));
    if (!s) throw new ScheduleNotFoundError(name);
    return s;
  }

  list(): Promise<Schedule[]> {
    return this.#d.store.schedules();
  }

  async delete(name: string): Promise<void> {
    if (!(await this.#d.store.scheduleDelete(checkScheduleName(name)))) throw new ScheduleNotFoundError(name);
  }

  /** Pauses or resumes; a resumed schedule goes on from its next slot after now (none for the time it was paused). */
  async setPaused(name: string, paused: boolean): Promise<Schedule> {
    const s = await this.get(name);
    const slots = slotsOf(s);
    const now = this.#d.clock.now();
    if (!(await this.#d.store.scheduleSetPaused(s.name, paused, (last) => slots.after(Math.max(now, last ?? -Infinity)), now))) throw new ScheduleNotFoundError(name);
    this.#changed();
    return this.get(name);
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#changed();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = null;
    while (this.#running) await this.#running.catch(() => {});
  }

  /**
   * Fires the schedules due now (once, whatever else runs). For tests and Spool.runMaintenance.
   * A schedule whose firing fails (its queue is full) is reported and left due for the next
   * look; it does not hold back the others.
   */
  async fireDue(): Promise<boolean> {
    const { store, clock } = this.#d;
    let any = false;
    for (;;) {
      const due = await store.schedulesDue(clock.now(), DUE_BATCH);
      let applied = false;
      for (const s of due) {
        try {
          if (await this.#fire(s)) applied = true;
        } catch (err) {
          this.#d.reportError(err, `firing schedule ${s.name}`);
        }
      }
      any ||= applied;
      // A full batch in which nothing applied (all failing, or fired elsewhere) is left to the next look.
      if (due.length < DUE_BATCH || !applied) return any;
    }
  }

  /** Whether this process's firing applied (false: another process fired the slot first). */
  async #fire(s: Schedule): Promise<boolean> {
    const { store, clock, settings, queues } = this.#d;
    const now = clock.now();
    const plan = planSlots(slotsOf(s), s, s.nextAt!, now, settings.cron.graceMs);
    let rows: NewJobRow[] = [];
    if (plan.slots.length > 0) {
      const items = plan.slots.map((slot) => ({ ...(s.job as ScheduleJobOptions), payload: s.payload, trace: null }));
      const built = buildJobRows(s.queue, items, now, { ...settings, addManyMax: Math.max(settings.addManyMax, items.length) });
      const config = (await queues.state(s.queue)).config;
      applyQueueDefaults(built.rows, built.jobs, config);
      const bound = queueBound(config);
      rows = built.rows.map((r, i) => ({ ...r, runAt: plan.slots[i]!, ...(bound ? { bound } : {}) }));
    }
    const applied = await store.scheduleFire({
      name: s.name, expectNextAt: s.nextAt!, expectUpdatedAt: s.updatedAt, nextAt: plan.nextAt,
      lastSlot: plan.slots.at(-1) ?? null, missed: plan.missed, rows,
    });
    if (applied && rows.length > 0) this.#d.added(s.queue, rows.length);
    return applied;
  }

  /** A schedule changed here (or the timer is to be armed first): look again now. */
  #changed(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#arm(this.#d.clock.now());
  }

  #arm(at: number): void {
    if (this.#stopped) return;
    if (this.#timer) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = this.#d.clock.setTimeout(() => this.#pass(), Math.max(0, at - this.#d.clock.now()));
  }

  /** Fires what is due, then arms the timer at the next slot, or the next maintenance interval if sooner. */
  #pass(): Promise<void> {
    this.#timer = null;
    const run = (async () => {
      const { store, clock, settings } = this.#d;
      let next: number | null = null;
      let applied = false;
      try {
        do {
          this.#again = false;
          applied = await this.fireDue();
          next = await store.schedulesNextAt();
        } while (this.#again && !this.#stopped);
      } catch (err) {
        this.#d.reportError(err, 'firing cron schedules');
      }
      const now = clock.now();
      const recheck = now + settings.maintenanceIntervalMs;
      // A slot still due: look again at once if this pass got somewhere (a slot fell due meanwhile),
      // else (its firing fails: a full queue) at the next interval, not in a loop.
      const due = next !== null && next <= now;
      this.#arm(next === null ? recheck : due ? (applied ? now : recheck) : Math.min(next, recheck));
    })();
    this.#running = run;
    return run.finally(() => {
      if (this.#running === run) this.#running = null;
    });
  }
}
