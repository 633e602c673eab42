import { GLOBAL_OPTIONS_HELP } from './args.ts';
import type { Command } from './command.ts';
import { EXIT_CODE_DOCS } from './exit-codes.ts';

/** The text of `spool --help`: commands, global options, exit codes. */
export function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return `spool: a durable task and message queue

Usage: spool <command> [arguments] [options]
       spool --version   (or -v: print the version of spool)

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

Global options:
${GLOBAL_OPTIONS_HELP}

Exit codes:
${exitCodesHelp()}

Run "spool <command> --help" for a command's arguments, options and output.`;
}

/** The text of `spool <command> --help`. */
export function commandHelp(command: Command): string {
  return `Usage:
${command.usage.map((u) => `  spool ${u}`).join('\n')}

${command.help}

Global options:
${GLOBAL_OPTIONS_HELP}

Exit codes:
${exitCodesHelp()}`;
}

function exitCodesHelp(): string {
  return EXIT_CODE_DOCS.map(([code, doc]) => `  ${String(code).padStart(3)}  ${doc}`).join('\n');
}
