import { ERRORS, EXIT, errorSpec, type ExitCode } from '../core/error-codes.ts';
import { SpoolError } from '../core/errors.ts';

// The exit statuses live with the error codes (error-codes.ts), which give each code its exit status.
export { EXIT, type ExitCode } from '../core/error-codes.ts';

/** What each exit status means, in one line; the error codes that lead to it are added from `ERRORS`. */
const EXIT_MEANING: Readonly<Record<ExitCode, string>> = {
  [EXIT.OK]: 'ok',
  [EXIT.INTERNAL]: 'unexpected internal error',
  [EXIT.USAGE]: 'usage error: unknown command or flag, missing argument, bad JSON, value out of bounds',
  [EXIT.NOT_FOUND]: 'job, queue or token not found',
  [EXIT.INVALID_STATE]: 'the job\'s state does not allow it',
  [EXIT.STORE_UNAVAILABLE]: 'store unavailable or too new, or the broker of --url unreachable',
  [EXIT.TIMED_OUT]: 'a wait ran out first: the queue was not drained within --timeout',
  [EXIT.QUEUE_FULL]: 'a bounded queue was full: the add was refused at its maxLength; add again later',
  [EXIT.FORCED_STOP]: 'serve/work stopped by a second signal before graceful shutdown finished',
};

/** The error codes that exit with `exit` (none listed for INTERNAL: it is every other code). */
function errorCodesExitingWith(exit: ExitCode): string[] {
  if (exit === EXIT.INTERNAL) return [];
  return Object.entries(ERRORS).filter(([, spec]) => spec.exit === exit).map(([code]) => code);
}

/** One line per exit code, for `--help` and docs/cli.md. */
export const EXIT_CODE_DOCS: readonly (readonly [ExitCode, string])[] = Object.values(EXIT).map((exit) => {
  const codes = errorCodesExitingWith(exit);
  return [exit, codes.length === 0 ? EXIT_MEANING[exit] : `${EXIT_MEANING[exit]} (${codes.join(', ')})`] as const;
});

/**
 * The command line was wrong: an unknown command or flag, a missing argument, bad JSON.
 * Lives with the CLI because only the CLI has a command line to get wrong.
 */
export class UsageError extends SpoolError {
  constructor(message: string, options?: ErrorOptions) {
    super('USAGE', message, options);
  }
}

/**
 * The exit status for an error that ended a command: its code's in `ERRORS`; an error
 * that is not a SpoolError, or a code this version does not know, exits with INTERNAL.
 * @example
 * exitCodeFor(new JobNotFoundError(id)); // 3
 */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof SpoolError) return errorSpec(err.code)?.exit ?? EXIT.INTERNAL;
  return EXIT.INTERNAL;
}
