import type { Schedule } from '../../core/schedule.ts';
import { durationOption, integerOption, stringOption } from '../args.ts';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { formatDuration, formatTime, table } from '../format.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

const ACTIONS = ['list', 'add', 'rm', 'pause', 'resume'] as const;
type Action = (typeof ACTIONS)[number];
/** Which options go with which action, so a misplaced one is refused rather than ignored. */
const OPTIONS_OF: Record<Action, readonly string[]> = {
  list: [],
  add: ['queue', 'cron', 'every', 'tz', 'payload', 'catch-up', 'job-name', 'priority', 'max-attempts', 'paused'],
  rm: [],
  pause: [],
  resume: [],
};

/** `spool cron list|add|rm|pause|resume`: cron and repeat schedules. */
export const cron: Command = {
  name: 'cron',
  summary: 'list, add, remove, pause or resume cron and repeat schedules',
  usage: [
    'cron list',
    "cron add <name> --queue <queue> (--cron '<expression>' [--tz <zone>] or --every <duration>) [--payload <json>] [--catch-up <policy>] [--job-name <name>] [--priority <n>] [--max-attempts <n>] [--paused]",
    'cron rm <name>',
    'cron pause <name>',
    'cron resume <name>',
  ],
  help: `  list     every schedule with its next slot, latest slot fired, and jobs added and slots
           missed so far. With --json: {"schedules":[…]}.
  add      creates a schedule, or replaces the one of that name (keeping its counts; a slot
           already fired never fires again). Each slot adds one job to --queue, once across
           every process and broker sharing the store.
           --cron '<expr>'   5 fields, or 6 with seconds first ('*/10 * * * * *': every 10 s)
           --tz <zone>       the IANA time zone of --cron (default UTC); DST as croner handles it
           --every <d>       instead of --cron: every <d> (1500, 30s, 15m, 2h, 1d), at the
                             multiples of it since the Unix epoch
           --payload <json>  every job's payload (default null)
           --catch-up <policy>  slots missed while no process ran (past cronGraceMs): skip (default)
                             adds none, run-once adds one job for the latest
           --job-name, --priority, --max-attempts   the jobs' options
           --paused          stored paused
           Output: the schedule, as list prints it. With --json: the schedule.
  rm       deletes a schedule (the jobs it added stay). Output: "deleted schedule <name>".
  pause    its slots add no job until it is resumed.
  resume   goes on from its next slot after now (slots passed while paused add none).
  Schedules fire in every process that runs maintenance (spool serve, spool work on a
  store, an embedded Spool): with none running, slots pass without jobs (see docs/cron.md).`,
  options: {
    queue: { type: 'string' }, cron: { type: 'string' }, every: { type: 'string' }, tz: { type: 'string' }, payload: { type: 'string' },
    'catch-up': { type: 'string' }, 'job-name': { type: 'string' }, priority: { type: 'string' }, 'max-attempts': { type: 'string' }, paused: { type: 'boolean' },
  },
  positionals: { min: 1, max: 2 },
  remote: true,
  async run(ctx) {
    const [action, name] = ctx.args;
    if (!(ACTIONS as readonly string[]).includes(action!)) throw new UsageError(`unknown cron action ${JSON.stringify(action)}; use cron list, add, rm, pause or resume`);
    const act = action as Action;
    for (const option of Object.keys(ctx.options)) {
      if (ctx.options[option] !== undefined && !OPTIONS_OF[act].includes(option)) throw new UsageError(`--${option} does not go with cron ${act}`);
    }
    if (act === 'list') {
      if (name !== undefined) throw new UsageError('cron list takes no name');
      const r = await runOperation<{ schedules: Schedule[] }>(ctx.target, 'listSchedules', {});
      return printResult(ctx.json, r, () => (r.schedules.length === 0 ? 'no schedules' : render(r.schedules)));
    }
    if (name === undefined) throw new UsageError(`cron ${act}: missing the schedule's name; usage: spool ${cron.usage[ACTIONS.indexOf(act)]}`);
    if (act === 'add') return add(ctx, name);
    if (act === 'rm') {
      await runOperation(ctx.target, 'deleteSchedule', { name });
      return printResult(ctx.json, { name, deleted: true }, () => `deleted schedule ${name}`);
    }
    const s = await runOperation<Schedule>(ctx.target, act === 'pause' ? 'pauseSchedule' : 'resumeSchedule', { name });
    printResult(ctx.json, s, () => render([s]));
  },
};

async function add(ctx: CommandContext, name: string): Promise<void> {
  const queue = stringOption(ctx.options, 'queue');
  if (queue === undefined) throw new UsageError('cron add: --queue is required');
  const payloadText = stringOption(ctx.options, 'payload');
  let payload: unknown;
  if (payloadText !== undefined) {
    try {
      payload = JSON.parse(payloadText);
    } catch (err) {
      throw new UsageError(`--payload is not valid JSON (${(err as Error).message}); quote it for the shell, e.g. '{"report":"daily"}'`, { cause: err });
    }
  }
  const job = Object.fromEntries(Object.entries({
    name: stringOption(ctx.options, 'job-name'), priority: integerOption(ctx.options, 'priority'), maxAttempts: integerOption(ctx.options, 'max-attempts'),
  }).filter(([, v]) => v !== undefined));
  const input = Object.fromEntries(Object.entries({
    name, queue, cron: stringOption(ctx.options, 'cron'), timezone: stringOption(ctx.options, 'tz'), everyMs: durationOption(ctx.options, 'every'),
    payload, catchUp: stringOption(ctx.options, 'catch-up'), paused: ctx.options.paused === true ? true : undefined,
    job: Object.keys(job).length > 0 ? job : undefined,
  }).filter(([, v]) => v !== undefined));
  const s = await runOperation<Schedule>(ctx.target, 'setSchedule', input);
  printResult(ctx.json, s, () => render([s]));
}

function render(schedules: readonly Schedule[]): string {
  return table(
    ['NAME', 'QUEUE', 'WHEN', 'CATCH-UP', 'STATE', 'NEXT', 'LAST', 'FIRED', 'MISSED'],
    schedules.map((s) => [
      s.name, s.queue, s.cron !== null ? `${s.cron}${s.timezone ? ` (${s.timezone})` : ''}` : `every ${formatDuration(s.everyMs!)}`,
      s.catchUp, s.paused ? 'paused' : 'active', formatTime(s.nextAt), formatTime(s.lastSlot), String(s.fired), String(s.missed),
    ]),
  );
}
