/** The operation rows for cron and repeat schedules (see src/engine/cron.ts, docs/cron.md). */
import { checkSchedule, type Schedule, type ScheduleInput } from '../../core/schedule.ts';
import { LIMITS } from '../../core/limits.ts';
import * as C from '../schedule-schemas.ts';
import { op } from '../operation-kit.ts';
import type { Operation } from '../operations.ts';
import * as S from '../schemas.ts';

type Named = { name: string };
const nameIn = S.object({ name: C.scheduleName }, ['name']);

export const SCHEDULE_OPERATIONS = [
  op<Named & ScheduleInput, Schedule>({
    name: 'setSchedule', summary: 'Create or replace a cron or repeat schedule: each slot adds one job to its queue, once across every process',
    description: 'A replacement keeps the counts and never fires a slot already fired. See docs/cron.md.',
    action: 'admin', queue: 'none',
    input: S.object({ name: C.scheduleName, ...C.scheduleFields }, ['name', 'queue']), output: C.schedule,
    http: { method: 'PUT', path: '/v1/schedules/{name}' }, ws: { call: 'schedule' },
    explain: ({ name, ...input }: Named & ScheduleInput) => void checkSchedule(name, input, LIMITS.payloadMaxBytes.max),
    run: (host, { name, ...input }) => host.schedule(name, input),
  }),
  op<Record<string, never>, { schedules: Schedule[] }>({
    name: 'listSchedules', summary: 'Every schedule with its next slot, latest slot fired and counts',
    description: 'Lists the schedules of queues the caller may read.',
    action: 'read', queue: 'self',
    input: S.object({}), output: { type: 'object', required: ['schedules'], properties: { schedules: { type: 'array', items: C.schedule } } },
    http: { method: 'GET', path: '/v1/schedules' }, ws: { call: 'schedules' },
    async run(host, _input, ctx) {
      return { schedules: (await host.schedules()).filter((s) => ctx.access.can('read', s.queue)) };
    },
  }),
  op<Named, { name: string; deleted: true }>({
    name: 'deleteSchedule', summary: 'Delete a schedule (the jobs it added stay)',
    action: 'admin', queue: 'none',
    input: nameIn, output: { type: 'object', required: ['name', 'deleted'], properties: { name: C.scheduleName, deleted: { const: true } } },
    http: { method: 'DELETE', path: '/v1/schedules/{name}', body: false }, ws: { call: 'unschedule' }, errors: ['SCHEDULE_NOT_FOUND'],
    async run(host, { name }) {
      await host.unschedule(name);
      return { name, deleted: true };
    },
  }),
  op<Named, Schedule>({
    name: 'pauseSchedule', summary: 'Pause a schedule: its slots get no job until it is resumed',
    action: 'admin', queue: 'none',
    input: nameIn, output: C.schedule,
    http: { method: 'POST', path: '/v1/schedules/{name}/pause', body: false }, ws: { call: 'pauseSchedule' }, errors: ['SCHEDULE_NOT_FOUND'],
    run: (host, { name }) => host.pauseSchedule(name),
  }),
  op<Named, Schedule>({
    name: 'resumeSchedule', summary: 'Resume a schedule from its next slot after now (slots passed while paused get no job)',
    action: 'admin', queue: 'none',
    input: nameIn, output: C.schedule,
    http: { method: 'POST', path: '/v1/schedules/{name}/resume', body: false }, ws: { call: 'resumeSchedule' }, errors: ['SCHEDULE_NOT_FOUND'],
    run: (host, { name }) => host.resumeSchedule(name),
  }),
] as const satisfies readonly Operation[];
