/**
 * Cron and repeatable schedules: what a caller gives (`ScheduleInput`), what is stored and read
 * back (`Schedule`), the one check between them, and the slots a schedule yields. Cron
 * expressions (seconds and time zones included, DST handled) are croner's: nothing here parses one.
 */
import { Cron } from 'croner';
import { InvalidArgumentError } from './errors.ts';
import { checkLimit, describe } from './limits.ts';
import { checkOptionKeys } from './options.ts';
import { checkAddOptions } from './add-options.ts';
import { checkQueueName, encodeJson } from './validate.ts';

/** What to do with the slots that passed while no process could fire them (longer ago than `cronGraceMs`). */
export type CatchUp = 'skip' | 'run-once';
export const CATCH_UP_POLICIES: readonly CatchUp[] = ['skip', 'run-once'];

/** The add options a schedule's jobs may carry (a job runs at its slot: no delay, runAt or keys). */
export interface ScheduleJobOptions {
  name?: string;
  priority?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  ttlMs?: number;
  group?: string;
  concurrencyKey?: string;
  cost?: number;
}
export const SCHEDULE_JOB_OPTION_KEYS = ['name', 'priority', 'maxAttempts', 'timeoutMs', 'ttlMs', 'group', 'concurrencyKey', 'cost'] as const;

/** A schedule as given to `schedule(name, input)`: `cron` or `everyMs`, not both. */
export interface ScheduleInput {
  /** The queue each slot's job is added to. */
  queue: string;
  /**
   * A cron expression (croner's syntax): 5 fields (minute precision), or 6 with seconds first,
   * e.g. `0 *\/5 * * * *` (every 5 minutes) or `* * * * * *` (every second).
   */
  cron?: string;
  /** The IANA time zone `cron` is read in (`Europe/Berlin`); default UTC. Only with `cron`. */
  timezone?: string;
  /** Every this many ms instead of a cron expression: the slots are the multiples of it since the Unix epoch. */
  everyMs?: number;
  /** The payload of every job (JSON); default null. */
  payload?: unknown;
  /** The add options of every job. */
  job?: ScheduleJobOptions;
  /** Slots missed while no process ran: `skip` (default) adds none, `run-once` adds one job for the latest. */
  catchUp?: CatchUp;
  /** Stored paused: no slot fires until it is resumed. Default false. */
  paused?: boolean;
}
export const SCHEDULE_INPUT_KEYS = ['queue', 'cron', 'timezone', 'everyMs', 'payload', 'job', 'catchUp', 'paused'] as const;

/** A stored schedule, as read back. */
export interface Schedule {
  name: string;
  queue: string;
  cron: string | null;
  /** The time zone of `cron` (null: UTC). */
  timezone: string | null;
  everyMs: number | null;
  payload: unknown;
  job: ScheduleJobOptions;
  catchUp: CatchUp;
  paused: boolean;
  /** The next slot (Unix ms) a job is added for; null when the expression has no further slot. */
  nextAt: number | null;
  /** The latest slot a job was added for, or null. */
  lastSlot: number | null;
  /** Jobs added for slots so far (a `run-once` catch-up counts as one). */
  fired: number;
  /** Slots missed (no process fired them within `cronGraceMs`). */
  missed: number;
  createdAt: number;
  updatedAt: number;
}

/** What the store keeps of a checked schedule (payload and job options as JSON text). */
export interface ScheduleDefinition {
  name: string;
  queue: string;
  cron: string | null;
  timezone: string | null;
  everyMs: number | null;
  payload: string;
  job: string;
  catchUp: CatchUp;
  paused: boolean;
}

/** Schedule names follow the queue-name rule. */
export function checkScheduleName(name: unknown, field = 'name'): string {
  return checkQueueName(name, field);
}

/** Validates a time zone by the runtime's own zone database (what croner reads too). */
function checkTimezone(tz: unknown): string {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 64) {
    throw new InvalidArgumentError('timezone', `timezone must be an IANA time zone name such as "Europe/Berlin" (got ${describe(tz)})`);
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new InvalidArgumentError('timezone', `timezone ${JSON.stringify(tz)} is not a time zone this runtime knows; use an IANA name such as "Europe/Berlin"`);
  }
  return tz;
}

/** Longest cron expression, in characters. */
const CRON_MAX = 256;

function cronOf(expr: string, timezone: string | null): Cron {
  // Paused: croner only computes slots here, it never runs a timer.
  return new Cron(expr, { paused: true, timezone: timezone ?? 'UTC', mode: '5-or-6-parts' });
}

function checkCron(expr: unknown, timezone: string | null): string {
  if (typeof expr !== 'string' || expr.trim().length === 0 || expr.length > CRON_MAX) {
    throw new InvalidArgumentError('cron', `cron must be an expression of 5 or 6 fields (seconds first), e.g. "0 */5 * * * *" (got ${describe(expr)})`);
  }
  try {
    cronOf(expr, timezone);
  } catch (err) {
    throw new InvalidArgumentError('cron', `cron ${JSON.stringify(expr)} is not valid: ${(err as Error).message}`);
  }
  return expr;
}

function checkJobOptions(job: unknown): string {
  if (job === undefined) return '{}';
  checkOptionKeys(job, SCHEDULE_JOB_OPTION_KEYS, 'schedule job', 'option', 'job.');
  try {
    checkAddOptions(job, 0); // the same rules as an add's
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`job.${err.field}`, `job: ${err.message}`);
    throw err;
  }
  return JSON.stringify(job);
}

/** Validates a schedule. @throws InvalidArgumentError naming the field at fault. */
export function checkSchedule(name: unknown, input: unknown, payloadMaxBytes: number): ScheduleDefinition {
  const n = checkScheduleName(name);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError('schedule', `a schedule must be an object { queue, cron | everyMs, … } (got ${describe(input)})`);
  }
  checkOptionKeys(input, SCHEDULE_INPUT_KEYS, 'schedule', 'field');
  const s = input as ScheduleInput;
  const queue = checkQueueName(s.queue);
  if ((s.cron === undefined) === (s.everyMs === undefined)) {
    throw new InvalidArgumentError(s.cron === undefined ? 'cron' : 'everyMs', 'a schedule needs cron or everyMs, not both');
  }
  if (s.timezone !== undefined && s.cron === undefined) throw new InvalidArgumentError('timezone', 'timezone goes with cron (everyMs counts from the Unix epoch)');
  const timezone = s.timezone === undefined ? null : checkTimezone(s.timezone);
  const cron = s.cron === undefined ? null : checkCron(s.cron, timezone);
  if (s.everyMs === undefined && cron === null) throw new InvalidArgumentError('cron', 'a schedule needs cron or everyMs');
  const everyMs = s.everyMs === undefined ? null : checkLimit('everyMs', s.everyMs);
  if (s.catchUp !== undefined && !CATCH_UP_POLICIES.includes(s.catchUp)) {
    throw new InvalidArgumentError('catchUp', `catchUp must be 'skip' or 'run-once' (got ${describe(s.catchUp)})`);
  }
  if (s.paused !== undefined && typeof s.paused !== 'boolean') throw new InvalidArgumentError('paused', `paused must be a boolean (got ${describe(s.paused)})`);
  return {
    name: n, queue, cron, timezone, everyMs,
    payload: encodeJson(s.payload ?? null, payloadMaxBytes),
    job: checkJobOptions(s.job),
    catchUp: s.catchUp ?? 'skip',
    paused: s.paused ?? false,
  };
}

/** How a schedule yields its slots (Unix ms). */
export interface Slots {
  /** The first slot strictly after `t`, or null when there is none. */
  after(t: number): number | null;
  /** The latest slot strictly before `t`, or null. */
  before(t: number): number | null;
}

/** The slots of a stored schedule. */
export function slotsOf(def: Pick<ScheduleDefinition, 'cron' | 'timezone' | 'everyMs'>): Slots {
  if (def.everyMs !== null) {
    const every = def.everyMs;
    return {
      after: (t) => (Math.floor(t / every) + 1) * every,
      before: (t) => (Math.ceil(t / every) - 1) * every,
    };
  }
  const cron = cronOf(def.cron!, def.timezone);
  return {
    after: (t) => cron.nextRun(new Date(t))?.getTime() ?? null,
    before: (t) => {
      // previousRuns may include a run in the same second as `t`: keep only those before it.
      for (const d of cron.previousRuns(2, new Date(t))) if (d.getTime() < t) return d.getTime();
      return null;
    },
  };
}
