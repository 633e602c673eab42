import type { QueueConfig } from '../../core/queue-config.ts';
import { stringsOption } from '../args.ts';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';
import { parseQueueSettings, QUEUE_SETTING_NAMES, renderQueueConfig } from '../queue-settings.ts';

const ACTIONS = ['get', 'set', 'delete'] as const;

/** `spool queue get|set|delete <queue>`: a queue's settings, and the queue itself. */
export const queue: Command = {
  name: 'queue',
  summary: "show or change a queue's settings, or delete a queue",
  usage: ['queue get <queue>', 'queue set <queue> --set <name>=<value> [--set …]', 'queue delete <queue> [--force]'],
  help: `  get      shows the queue's settings (the defaults when it was never configured).
           Output: one "name: value" line each, named as --set takes them.
           With --json: {"name","config":{"visibilityTimeoutMs","maxAttempts","maxStalls",
           "backoff":{"type","delayMs","maxDelayMs"},"timeoutMs","rateLimit"}}.
  set      changes the settings given with --set; the others keep their values.
           --set <name>=<value>  repeatable; name is one of
                                 ${QUEUE_SETTING_NAMES.join(', ')}
                                 (see docs/configuration.md); backoff.type is fixed or exponential;
                                 rateLimit.* set the rate limit whole (rate required), rateLimit=none removes it;
                                 keyRateLimit.* likewise the rate limit of each job key; keyRateLimits is JSON
           Output: the settings after the change, as get prints them.
           Exit code 2 for an unknown setting (the message names the nearest) or a value out of bounds.
           Jobs already added keep their maxAttempts, maxStalls and timeoutMs; every process obeys the
           new settings within settingsRefreshMs (1 s by default).
  delete   deletes the queue, all its jobs and its settings, without asking. Refused while
           jobs of it are running (exit code 4) unless --force: then their handlers' results
           are refused. Output: "deleted queue <queue> and its N jobs".
           With --json: {"name","jobsDeleted"}.`,
  options: { set: { type: 'string', multiple: true }, force: { type: 'boolean' } },
  positionals: { min: 1, max: 2 },
  remote: true,
  async run(ctx) {
    const [action, name] = ctx.args;
    if (!(ACTIONS as readonly string[]).includes(action!)) {
      throw new UsageError(`unknown queue action ${JSON.stringify(action)}; use queue get, queue set or queue delete`);
    }
    if (name === undefined) throw new UsageError(`queue ${action}: missing the queue name; usage: spool queue ${action} <queue>`);
    if (action !== 'set' && ctx.options.set !== undefined) throw new UsageError('--set goes with queue set');
    if (action !== 'delete' && ctx.options.force !== undefined) throw new UsageError('--force goes with queue delete');
    if (action === 'get') return show(ctx, await runOperation<Named>(ctx.target, 'getQueue', { queue: name }));
    if (action === 'set') {
      const sets = stringsOption(ctx.options, 'set');
      if (sets.length === 0) throw new UsageError(`queue set: give at least one --set <name>=<value>, e.g. spool queue set ${name} --set maxAttempts=10`);
      return show(ctx, await runOperation<Named>(ctx.target, 'configureQueue', { queue: name, config: parseQueueSettings(sets) }));
    }
    const force = ctx.options.force === true;
    const r = await runOperation<{ name: string; jobsDeleted: number }>(ctx.target, 'deleteQueue', { queue: name, ...(force ? { force } : {}) });
    printResult(ctx.json, r, () => `deleted queue ${r.name} and its ${r.jobsDeleted} ${r.jobsDeleted === 1 ? 'job' : 'jobs'}`);
  },
};

type Named = { name: string; config: QueueConfig };

function show(ctx: CommandContext, r: Named): void {
  printResult(ctx.json, r, () => renderQueueConfig(r.name, r.config));
}
