import type { Binding, Bindings, Published } from '../../core/publish.ts';
import { durationOption, integerOption, stringOption } from '../args.ts';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { formatTime, table } from '../format.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** The `spool publish`, `bind`, `unbind` and `bindings` commands (docs/routing.md). */

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the payload is not valid JSON (${(err as Error).message}); quote it for the shell, e.g. '{"order":42}'`, { cause: err });
  }
}

function publishOptions(ctx: CommandContext): Record<string, unknown> {
  const o: Record<string, unknown> = {
    priority: integerOption(ctx.options, 'priority'), delayMs: integerOption(ctx.options, 'delay'), name: stringOption(ctx.options, 'name'),
    group: stringOption(ctx.options, 'group'), maxAttempts: integerOption(ctx.options, 'max-attempts'), timeoutMs: integerOption(ctx.options, 'timeout'),
    ttlMs: durationOption(ctx.options, 'ttl'),
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** `spool publish <topic> <json>`: one job per queue the topic routes to. */
export const publish: Command = {
  name: 'publish',
  summary: 'publish to a topic: one job in each queue a binding routes it to',
  usage: ['publish <topic> <json> [options]'],
  help: `Publishes <json> to <topic> (words joined by '.', e.g. orders.eu.created): one job in
each queue a binding routes the topic to (see spool bind), all written together or none.
A topic that matches no binding is counted (spool bindings shows the count) and goes to
the unrouted queue, if one is set.

Options:
  --priority <n>       higher runs first (default 0)
  --delay <ms>         run no sooner than this many milliseconds from now
  --name <s>           job name (default "default")
  --group <s>          the group (tenant, customer) of the jobs
  --max-attempts <n>   attempts before a job is dead (default: each queue's setting)
  --timeout <ms>       longest one attempt may run; 0: no limit (default: each queue's setting)
  --ttl <duration>     a job not started within it of the publish is never run (90s, 15m, 12h, 7d)

Output: one line per job written, "<queue> <job id>", or "unrouted: no binding matches
<topic>". With --json: {"topic","jobs":[…],"unrouted"}.`,
  options: {
    priority: { type: 'string' }, delay: { type: 'string' }, name: { type: 'string' }, group: { type: 'string' },
    'max-attempts': { type: 'string' }, timeout: { type: 'string' }, ttl: { type: 'string' },
  },
  positionals: { min: 2, max: 2 },
  remote: true,
  async run(ctx) {
    const [topic, text] = ctx.args as [string, string];
    const out = await runOperation<Published>(ctx.target, 'publish', { topic, payload: parseJson(text), ...publishOptions(ctx) });
    printResult(ctx.json, out, () => {
      const lines = out.jobs.map((j) => `${j.queue} ${j.id}`);
      if (out.unrouted) lines.unshift(`unrouted: no binding matches ${topic}${out.jobs.length > 0 ? '; sent to the unrouted queue' : ''}`);
      return lines.join('\n');
    });
  },
};

/** `spool bind <pattern> <queue>`: route matching topics to a queue. */
export const bind: Command = {
  name: 'bind',
  summary: 'route topics matching a pattern to a queue, or set the unrouted queue',
  usage: ['bind <pattern> <queue>', 'bind --unrouted <queue>'],
  help: `Routes every topic matching <pattern> to <queue>: each publish to such a topic writes one
job in <queue>. In a pattern, '*' stands for exactly one word and '#' for zero or more
(orders.*.created, orders.#; quote '#' and '*' for the shell). A queue bound by several
matching patterns still gets one job per publish. Binding a pair already bound changes nothing.
With --unrouted <queue>: publishes that match no binding go to <queue> (undo: spool unbind --unrouted).

Output: "bound <pattern> -> <queue>". With --json: the binding {"pattern","queue","createdAt"}.`,
  options: { unrouted: { type: 'string' } },
  positionals: { min: 0, max: 2 },
  remote: true,
  async run(ctx) {
    const unrouted = stringOption(ctx.options, 'unrouted');
    if (unrouted !== undefined) {
      if (ctx.args.length > 0) throw new UsageError('bind --unrouted <queue> takes no pattern');
      await runOperation(ctx.target, 'setUnroutedQueue', { queue: unrouted });
      return printResult(ctx.json, { unroutedQueue: unrouted }, () => `publishes that match no binding go to ${unrouted}`);
    }
    if (ctx.args.length !== 2) throw new UsageError(`bind: give a pattern and a queue; usage: spool ${bind.usage[0]}`);
    const [pattern, queue] = ctx.args as [string, string];
    const b = await runOperation<Binding>(ctx.target, 'bind', { pattern, queue });
    printResult(ctx.json, b, () => `bound ${b.pattern} -> ${b.queue}`);
  },
};

/** `spool unbind <pattern> <queue>`: remove a binding. */
export const unbind: Command = {
  name: 'unbind',
  summary: 'remove a binding, or clear the unrouted queue',
  usage: ['unbind <pattern> <queue>', 'unbind --unrouted'],
  help: `Removes the binding of <pattern> to <queue>: publishes after it no longer route there
(jobs already written stay). With --unrouted: publishes that match no binding go nowhere
again (they are still counted).

Output: "unbound <pattern> -> <queue>", or "no binding <pattern> -> <queue>" (exit code 0
all the same). With --json: {"pattern","queue","removed"}.`,
  options: { unrouted: { type: 'boolean' } },
  positionals: { min: 0, max: 2 },
  remote: true,
  async run(ctx) {
    if (ctx.options.unrouted === true) {
      if (ctx.args.length > 0) throw new UsageError('unbind --unrouted takes no pattern');
      await runOperation(ctx.target, 'setUnroutedQueue', { queue: null });
      return printResult(ctx.json, { unroutedQueue: null }, () => 'publishes that match no binding go nowhere');
    }
    if (ctx.args.length !== 2) throw new UsageError(`unbind: give a pattern and a queue; usage: spool ${unbind.usage[0]}`);
    const [pattern, queue] = ctx.args as [string, string];
    const { removed } = await runOperation<{ removed: boolean }>(ctx.target, 'unbind', { pattern, queue });
    printResult(ctx.json, { pattern, queue, removed }, () => `${removed ? 'unbound' : 'no binding'} ${pattern} -> ${queue}`);
  },
};

/** `spool bindings`: every binding and the unrouted rule. */
export const bindings: Command = {
  name: 'bindings',
  summary: 'list the bindings, the unrouted queue and how many publishes matched nothing',
  usage: ['bindings'],
  help: `Lists every binding (pattern, queue, when it was made), then where publishes that match no
binding go and how many there were.

With --json: {"bindings":[…],"unroutedQueue","unrouted"}.`,
  options: {},
  positionals: { min: 0, max: 0 },
  remote: true,
  async run(ctx) {
    const r = await runOperation<Bindings>(ctx.target, 'listBindings', {});
    printResult(ctx.json, r, () => {
      const rows = r.bindings.map((b) => [b.pattern, b.queue, formatTime(b.createdAt)]);
      const list = rows.length === 0 ? 'no bindings' : table(['PATTERN', 'QUEUE', 'CREATED'], rows);
      return `${list}\nunrouted: ${r.unrouted} publishes matched no binding; they go to ${r.unroutedQueue ?? 'no queue (counted only)'}`;
    });
  },
};
