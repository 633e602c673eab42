import type { AlertEvent, AlertRule } from '../../alerts/rules.ts';
import { integerOption, stringOption } from '../args.ts';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { formatDuration, formatTime, table, truncate } from '../format.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

const ACTIONS = ['set', 'list', 'delete', 'events'] as const;
/** Which options go with which action, so a misplaced one is refused rather than ignored. */
const OPTIONS_OF: Record<(typeof ACTIONS)[number], readonly string[]> = {
  set: ['queue', 'kind', 'threshold', 'for', 'webhook', 'secret'],
  list: [],
  delete: [],
  events: ['rule', 'before', 'limit'],
};

/** `spool alert set|list|delete|events`: alert rules and what they sent. */
export const alert: Command = {
  name: 'alert',
  summary: 'set, list or delete alert rules, and show their firings and resolutions',
  usage: [
    'alert set <id> --queue <queue> --kind <kind> [--threshold <n>] [--for <ms>] --webhook <url> [--secret <s>]',
    'alert list',
    'alert delete <id>',
    'alert events [--rule <id>] [--limit <n>] [--before <event id>]',
  ],
  help: `  set      sets a rule (a new id, or a replacement). --kind is one of
             oldestReadyAge  the oldest ready job has waited more than --threshold ms
             deadLetters     the queue holds more than --threshold dead jobs
             deadRate        more than --threshold jobs per second went dead over the
                             last minute (0: any; dead letters growing)
             utilisation     ρ is above --threshold (e.g. 0.85)
             noWorkers       no worker consumes from the queue (no --threshold)
           --for <ms>        how long the condition must hold before the rule fires (default 0)
           --webhook <url>   where firing and resolution are POSTed (JSON, see docs/operations.md)
           --secret <s>      signs each call: Spool-Signature: sha256=<hex HMAC of the body>
           Output: the rule, as list prints it. With --json: the rule.
  list     every rule with its state (ok, pending, firing) and its last value.
           With --json: {"alerts":[…]}.
  delete   deletes a rule; a firing one sends its resolution. Output: "deleted alert <id>".
  events   firings and resolutions, newest first, with their webhook delivery
           (pending, delivered, failed). --before pages back. With --json: {"events":[…]}.
  The leader broker (or the process, on an embedded store) evaluates every rule each
  maintenance tick; with many brokers, one call is made per firing.`,
  options: {
    queue: { type: 'string' }, kind: { type: 'string' }, threshold: { type: 'string' }, for: { type: 'string' },
    webhook: { type: 'string' }, secret: { type: 'string' }, rule: { type: 'string' }, before: { type: 'string' }, limit: { type: 'string' },
  },
  positionals: { min: 1, max: 2 },
  remote: true,
  async run(ctx) {
    const [action, id] = ctx.args;
    if (!(ACTIONS as readonly string[]).includes(action!)) throw new UsageError(`unknown alert action ${JSON.stringify(action)}; use alert set, list, delete or events`);
    const act = action as (typeof ACTIONS)[number];
    for (const name of Object.keys(ctx.options)) {
      if (ctx.options[name] !== undefined && !OPTIONS_OF[act].includes(name)) throw new UsageError(`--${name} does not go with alert ${act}`);
    }
    const needsId = act === 'set' || act === 'delete';
    if (needsId && id === undefined) throw new UsageError(`alert ${act}: missing the rule's id; usage: spool ${alert.usage[ACTIONS.indexOf(act)]}`);
    if (!needsId && id !== undefined) throw new UsageError(`alert ${act} takes no id${act === 'events' ? '; use --rule <id>' : ''}`);
    if (act === 'set') return set(ctx, id!);
    if (act === 'delete') {
      await runOperation(ctx.target, 'deleteAlert', { id });
      return printResult(ctx.json, { id, deleted: true }, () => `deleted alert ${id}`);
    }
    if (act === 'list') {
      const r = await runOperation<{ alerts: AlertRule[] }>(ctx.target, 'listAlerts', {});
      return printResult(ctx.json, r, () => (r.alerts.length === 0 ? 'no alert rules' : renderRules(r.alerts)));
    }
    const input = { ruleId: stringOption(ctx.options, 'rule'), before: integerOption(ctx.options, 'before'), limit: integerOption(ctx.options, 'limit') };
    const r = await runOperation<{ events: AlertEvent[] }>(ctx.target, 'alertEvents', Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
    printResult(ctx.json, r, () => (r.events.length === 0 ? 'no alert events' : renderEvents(r.events)));
  },
};

async function set(ctx: CommandContext, id: string): Promise<void> {
  const text = stringOption(ctx.options, 'threshold');
  let threshold: number | undefined;
  if (text !== undefined) {
    threshold = Number(text);
    if (text.trim() === '' || !Number.isFinite(threshold)) throw new UsageError(`--threshold must be a number (got ${JSON.stringify(text)})`);
  }
  const input: Record<string, unknown> = {
    id, queue: stringOption(ctx.options, 'queue'), kind: stringOption(ctx.options, 'kind'), threshold,
    forMs: integerOption(ctx.options, 'for'), webhook: stringOption(ctx.options, 'webhook'), secret: stringOption(ctx.options, 'secret'),
  };
  for (const required of ['queue', 'kind', 'webhook']) if (input[required] === undefined) throw new UsageError(`alert set: --${required} is required`);
  const rule = await runOperation<AlertRule>(ctx.target, 'setAlert', Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
  printResult(ctx.json, rule, () => renderRules([rule]));
}

function renderRules(rules: readonly AlertRule[]): string {
  return table(
    ['ID', 'QUEUE', 'KIND', 'THRESHOLD', 'FOR', 'STATE', 'VALUE', 'SINCE'],
    rules.map((r) => [r.id, r.queue, r.kind, r.kind === 'noWorkers' ? '-' : String(r.threshold), formatDuration(r.forMs), r.state,
      r.value === null ? '-' : String(Math.round(r.value * 100) / 100), formatTime(r.since)]),
  );
}

function renderEvents(events: readonly AlertEvent[]): string {
  return table(
    ['ID', 'AT', 'RULE', 'QUEUE', 'EVENT', 'DELIVERY', 'REASON'],
    events.map((e) => [String(e.id), formatTime(e.at), e.ruleId, e.queue, e.event,
      e.delivery === 'delivered' ? 'delivered' : `${e.delivery} (${e.attempts} ${e.attempts === 1 ? 'try' : 'tries'}${e.lastError ? `: ${truncate(e.lastError, 40)}` : ''})`, e.reason]),
  );
}
