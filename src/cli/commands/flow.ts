import type { AddedFlow, Flow } from '../../core/flow.ts';
import { integerOption, stringOption } from '../args.ts';
import type { Command, CommandContext } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { formatTime, table } from '../format.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** `spool flow add|show`: flows, a parent job that runs once its children have finished (docs/flows.md). */

const ACTIONS = ['add', 'show'] as const;
type Action = (typeof ACTIONS)[number];
const OPTIONS_OF: Record<Action, readonly string[]> = { add: ['children', 'on-child-failure', 'name', 'priority', 'max-attempts'], show: [] };

function json(text: string, what: string, example: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} is not valid JSON (${(err as Error).message}); quote it for the shell, e.g. '${example}'`, { cause: err });
  }
}

export const flow: Command = {
  name: 'flow',
  summary: 'add a flow (a parent job that runs once its children have finished), or show one',
  usage: [
    "flow add <queue> <json> --children '<json array>' [--on-child-failure <rule>] [--name <s>] [--priority <n>] [--max-attempts <n>]",
    'flow show <parent-id>',
  ],
  help: `  add    adds a parent job to <queue> with payload <json> and its children, all written
         together or none. The parent waits (scheduled) until every child has finished, then
         runs with their results in job.childResults.
         --children '<json>'   the children: [{"queue":"resize","payload":{…}, …add options}]
         --on-child-failure    what a failed child (dead, cancelled, deleted) does: fail (the
                               default) makes the parent dead at once; ignore runs it with the
                               completed children; continue runs it with every child
         --name, --priority, --max-attempts   the parent's options
         Output: "<parent id>" then one line per child, "<queue> <job id>".
         With --json: {"parent","children"}.
  show   the flow's tree: where it stands, the parent and each child with its state.
         With --json: the flow {"id","queue","parent","onChildFailure","state",…,"children"}.`,
  options: { children: { type: 'string' }, 'on-child-failure': { type: 'string' }, name: { type: 'string' }, priority: { type: 'string' }, 'max-attempts': { type: 'string' } },
  positionals: { min: 2, max: 3 },
  remote: true,
  async run(ctx) {
    const [action, ...rest] = ctx.args;
    if (!(ACTIONS as readonly string[]).includes(action!)) throw new UsageError(`unknown flow action ${JSON.stringify(action)}; use flow add or flow show`);
    const act = action as Action;
    for (const option of Object.keys(ctx.options)) {
      if (ctx.options[option] !== undefined && !OPTIONS_OF[act].includes(option)) throw new UsageError(`--${option} does not go with flow ${act}`);
    }
    if (act === 'add') return add(ctx, rest);
    if (rest.length !== 1) throw new UsageError(`flow show takes the parent's id; usage: spool ${flow.usage[1]}`);
    const f = await runOperation<Flow>(ctx.target, 'getFlow', { jobId: rest[0] });
    printResult(ctx.json, f, () => render(f));
  },
};

async function add(ctx: CommandContext, args: readonly string[]): Promise<void> {
  if (args.length !== 2) throw new UsageError(`flow add takes a queue and a payload; usage: spool ${flow.usage[0]}`);
  const children = stringOption(ctx.options, 'children');
  if (children === undefined) throw new UsageError('flow add: --children is required');
  const input = Object.fromEntries(Object.entries({
    queue: args[0], payload: json(args[1]!, 'the payload', '{"album":7}'),
    children: json(children, '--children', '[{"queue":"resize","payload":1}]'),
    onChildFailure: stringOption(ctx.options, 'on-child-failure') ?? 'fail',
    name: stringOption(ctx.options, 'name'), priority: integerOption(ctx.options, 'priority'), maxAttempts: integerOption(ctx.options, 'max-attempts'),
  }).filter(([, v]) => v !== undefined));
  const out = await runOperation<AddedFlow>(ctx.target, 'addFlow', input);
  printResult(ctx.json, out, () => [out.parent.id, ...out.children.map((c) => `${c.queue} ${c.id}`)].join('\n'));
}

function render(f: Flow): string {
  const head = `flow ${f.id} (${f.queue}): ${f.state}, on child failure ${f.onChildFailure}, settled ${formatTime(f.settledAt)}`;
  const rows = [['parent', f.queue, f.id, f.parent?.state ?? 'deleted'], ...f.children.map((c) => ['child', c.queue, c.id, c.job?.state ?? 'deleted'])];
  return `${head}\n${table(['ROLE', 'QUEUE', 'JOB', 'STATE'], rows)}`;
}
