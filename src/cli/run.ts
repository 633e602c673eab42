/**
 * The `spool` command line as a function: parses the arguments, runs one command, and
 * turns whatever it threw into one line on stderr and a meaningful exit code.
 * `main.ts` is the process entry point around it.
 */
import { DEFAULT_DATA_DIR } from '../engine/open-store.ts';
import { findCommand, parseCommandArgs } from './args.ts';
import type { Command } from './command.ts';
import { add } from './commands/add.ts';
import { cancel } from './commands/cancel.ts';
import { del } from './commands/delete.ts';
import { job } from './commands/job.ts';
import { jobs } from './commands/jobs.ts';
import { migrate } from './commands/migrate.ts';
import { alert } from './commands/alert.ts';
import { cron } from './commands/cron.ts';
import { flow } from './commands/flow.ts';
import { pause } from './commands/pause.ts';
import { purge } from './commands/purge.ts';
import { queue } from './commands/queue.ts';
import { resume } from './commands/resume.ts';
import { retry } from './commands/retry.ts';
import { serve } from './commands/serve.ts';
import { stats } from './commands/stats.ts';
import { token } from './commands/token.ts';
import { top } from './commands/top.ts';
import { wait } from './commands/wait.ts';
import { request } from './commands/request.ts';
import { work } from './commands/work.ts';
import { bind, bindings, publish, unbind } from './commands/topics.ts';
import { EXIT, exitCodeFor, UsageError } from './exit-codes.ts';
import { commandHelp, generalHelp } from './help.ts';
import { storeSpec } from './open-spool.ts';
import { printResult, reportError } from './output.ts';
import { resolveTarget } from './target.ts';
import { packageVersion } from './version.ts';

/** Every command, in the order `spool --help` lists them. */
export const COMMANDS: readonly Command[] = [serve, add, publish, bind, unbind, bindings, stats, top, jobs, job, retry, cancel, del, pause, resume, purge, queue, alert, cron, flow, wait, request, work, migrate, token];

/**
 * Runs the command line `argv` (without `node` and the script) and returns the exit code.
 * @example
 * process.exitCode = await runCli(['stats', '--json']);
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    const at = findCommand(argv);
    const name = at === -1 ? undefined : argv[at]!;
    const beforeCommand = at === -1 ? argv : argv.slice(0, at);
    if (beforeCommand.includes('--version') || beforeCommand.includes('-v')) {
      const version = packageVersion();
      printResult(json, { version }, () => version);
      return EXIT.OK;
    }
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? argv[at + 1] : undefined;
      const command = topic === undefined ? undefined : lookup(topic);
      if (command) return printHelp(commandHelp(command));
      const asked = name === 'help' || argv.includes('--help') || argv.includes('-h');
      if (asked) return printHelp(generalHelp(COMMANDS));
      process.stderr.write(generalHelp(COMMANDS) + '\n');
      return EXIT.USAGE;
    }
    const command = lookup(name);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((c) => c.name).join(', ')} (see spool --help)`);
    const parsed = parseCommandArgs([...argv.slice(0, at), ...argv.slice(at + 1)], command.options);
    if (parsed.help) return printHelp(commandHelp(command));
    const { min, max } = command.positionals;
    if (parsed.positionals.length < min) {
      throw new UsageError(`${command.name}: missing argument; usage: ${command.usage.map((u) => `spool ${u}`).join(' | ')}`);
    }
    if (parsed.positionals.length > max) {
      throw new UsageError(`${command.name}: unexpected argument ${JSON.stringify(parsed.positionals[max])}; usage: ${command.usage.map((u) => `spool ${u}`).join(' | ')}`);
    }
    // The schema travels like the store does, as SPOOL_SCHEMA, to wherever the command opens Spool.
    if (parsed.schema !== undefined) process.env.SPOOL_SCHEMA = parsed.schema;
    const target = resolveTarget(parsed, command.name, command.remote === true, process.env, DEFAULT_DATA_DIR);
    const store = target.kind === 'store' ? target.store : storeSpec(parsed.store);
    const code = await command.run({ args: parsed.positionals, options: parsed.options, store, target, json: parsed.json });
    return code ?? EXIT.OK;
  } catch (err) {
    reportError(err, json);
    return exitCodeFor(err);
  }
}

function lookup(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function printHelp(text: string): number {
  process.stdout.write(text + '\n');
  return EXIT.OK;
}

/** True when `argv` names a command that runs until a signal (serve, work). */
export function isLongRunning(argv: readonly string[]): boolean {
  const at = findCommand(argv);
  return at !== -1 && lookup(argv[at]!)?.longRunning === true;
}
