import type { ParseArgsOptionDescriptor } from 'node:util';
import type { Target } from './target.ts';

/** The option values a command receives, after the global ones are taken out. */
export type OptionValues = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

/** What every command gets to run with. */
export interface CommandContext {
  /** Positional arguments after the command name. */
  readonly args: readonly string[];
  /** The command's own options. */
  readonly options: OptionValues;
  /** The store spec: `--store`, else `SPOOL_STORE`, else `./spool-data`. */
  readonly store: string;
  /**
   * Where operations run: that store, or the broker of `--url` (`SPOOL_URL`) for a command
   * that can run remotely. Give it to `runOperation`; a command never branches on it.
   */
  readonly target: Target;
  /** `--json`: print only JSON to stdout. */
  readonly json: boolean;
}

/**
 * One `spool` subcommand. Each lives in its own file under `commands/`.
 * `run` resolves to an exit code (or nothing for 0); it throws to fail, and
 * `main.ts` turns the error into a message and an exit code in one place.
 */
export interface Command {
  readonly name: string;
  /** One line for the command list in `spool --help`. */
  readonly summary: string;
  /** The synopsis lines, without the leading `spool `. */
  readonly usage: readonly string[];
  /** What the command does, its options and output, for `spool <command> --help`. */
  readonly help: string;
  /** Options of this command only; the global ones are added by main. */
  readonly options: Readonly<Record<string, ParseArgsOptionDescriptor>>;
  /** How many positional arguments the command takes. */
  readonly positionals: { readonly min: number; readonly max: number };
  /** Runs through a broker with `--url` (or `SPOOL_URL`); without it, `--url` is a usage error and `SPOOL_URL` is ignored. */
  readonly remote?: boolean;
  /** Runs until a signal (serve, work): main exits the process explicitly when it returns. */
  readonly longRunning?: boolean;
  run(ctx: CommandContext): Promise<number | void>;
}
