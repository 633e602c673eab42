import { SpoolError } from '../core/errors.ts';

/**
 * What the `spool` command's exit status means. Scripts branch on these, so a
 * number never changes meaning; `spool --help` and docs/cli.md print this table.
 */
export const EXIT = {
  /** The command did what was asked. */
  OK: 0,
  /** An unexpected internal error (a bug, or an error Spool does not know). */
  INTERNAL: 1,
  /** Usage error: unknown command or flag, missing argument, bad JSON or a value out of bounds. */
  USAGE: 2,
  /** No job (or API token) with that id. */
  NOT_FOUND: 3,
  /** The job's state does not allow the operation (e.g. retrying a completed job). */
  INVALID_STATE: 4,
  /** The store cannot be used: missing, locked, unwritable, corrupt, or written by a newer Spool. */
  STORE_UNAVAILABLE: 5,
  /** A second SIGINT/SIGTERM ended `serve` or `work` before its graceful shutdown finished. */
  FORCED_STOP: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One line per exit code, for `--help` and docs/cli.md. */
export const EXIT_CODE_DOCS: readonly (readonly [ExitCode, string])[] = [
  [EXIT.OK, 'ok'],
  [EXIT.INTERNAL, 'unexpected internal error'],
  [EXIT.USAGE, 'usage error: unknown command or flag, missing argument, bad JSON, value out of bounds (INVALID_ARGUMENT, PAYLOAD_TOO_LARGE)'],
  [EXIT.NOT_FOUND, 'job or token not found (JOB_NOT_FOUND, TOKEN_NOT_FOUND)'],
  [EXIT.INVALID_STATE, 'the job\'s state does not allow it (INVALID_STATE)'],
  [EXIT.STORE_UNAVAILABLE, 'store unavailable or too new (STORE_UNAVAILABLE, SCHEMA_TOO_NEW)'],
  [EXIT.FORCED_STOP, 'serve/work stopped by a second signal before graceful shutdown finished'],
];

/**
 * The command line was wrong: an unknown command or flag, a missing argument, bad JSON.
 * Lives with the CLI because only the CLI has a command line to get wrong.
 */
export class UsageError extends SpoolError {
  constructor(message: string, options?: ErrorOptions) {
    super('USAGE', message, options);
  }
}

/** Error codes (SpoolError `code`) and the exit status each maps to. Unlisted codes exit with INTERNAL. */
const EXIT_BY_CODE: Readonly<Record<string, ExitCode>> = {
  USAGE: EXIT.USAGE,
  INVALID_ARGUMENT: EXIT.USAGE,
  PAYLOAD_TOO_LARGE: EXIT.USAGE,
  JOB_NOT_FOUND: EXIT.NOT_FOUND,
  TOKEN_NOT_FOUND: EXIT.NOT_FOUND,
  INVALID_STATE: EXIT.INVALID_STATE,
  STALE_LEASE: EXIT.INVALID_STATE,
  STORE_UNAVAILABLE: EXIT.STORE_UNAVAILABLE,
  SCHEMA_TOO_NEW: EXIT.STORE_UNAVAILABLE,
};

/**
 * The exit status for an error that ended a command.
 * @example
 * exitCodeFor(new JobNotFoundError(id)); // 3
 */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof SpoolError) return EXIT_BY_CODE[err.code] ?? EXIT.INTERNAL;
  return EXIT.INTERNAL;
}
