/** JSON Schemas of the schedule operations (operations/schedules.ts); src/core/schedule.ts checks the same rules. */
import { SCHEDULE_JOB_OPTION_KEYS } from '../core/schedule.ts';
import { addOptions, anyJson, bounded, object, queueName, type Schema } from './schemas.ts';

export const scheduleName: Schema = { ...queueName, description: "The schedule's name: 1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit (the queue-name rule)." };

const jobOptions: Schema = object(Object.fromEntries(SCHEDULE_JOB_OPTION_KEYS.map((k) => [k, addOptions[k]!])));
const catchUp: Schema = {
  type: 'string', enum: ['skip', 'run-once'],
  description: 'Slots missed while no process ran (older than cronGraceMs): `skip` (default) adds no job for them, `run-once` one job for the latest.',
};

/** A schedule as `schedule` takes it (the `name` comes from the path over HTTP). */
export const scheduleFields: Record<string, Schema> = {
  queue: queueName,
  cron: { type: 'string', minLength: 1, maxLength: 256, description: 'A cron expression of 5 fields, or 6 with seconds first (croner syntax). Give cron or everyMs.' },
  timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'The IANA time zone `cron` is read in (e.g. `Europe/Berlin`); default UTC. DST is handled as croner does.' },
  everyMs: bounded('everyMs'),
  payload: anyJson,
  job: { ...jobOptions, description: 'The add options of every job: name, priority, maxAttempts, timeoutMs, ttlMs, group, concurrencyKey, cost.' },
  catchUp,
  paused: { type: 'boolean', description: 'Stored paused: no slot fires until resumed. Default false.' },
};

const nullableInt: Schema = { type: ['integer', 'null'] };

export const schedule: Schema = {
  type: 'object',
  required: ['name', 'queue', 'cron', 'timezone', 'everyMs', 'payload', 'job', 'catchUp', 'paused', 'nextAt', 'lastSlot', 'fired', 'missed', 'createdAt', 'updatedAt'],
  properties: {
    name: scheduleName, queue: queueName, cron: { type: ['string', 'null'] }, timezone: { type: ['string', 'null'] }, everyMs: nullableInt,
    payload: anyJson, job: { type: 'object' }, catchUp, paused: { type: 'boolean' },
    nextAt: { ...nullableInt, description: 'The next slot (Unix ms); null when the expression has no further one.' },
    lastSlot: { ...nullableInt, description: 'The latest slot a job was added for.' },
    fired: { type: 'integer', description: 'Jobs added for slots so far.' },
    missed: { type: 'integer', description: 'Slots no process fired within cronGraceMs.' },
    createdAt: { type: 'integer' }, updatedAt: { type: 'integer' },
  },
};
