import { SpoolError } from '../core/errors.ts';

/**
 * Where CLI output goes. Results go to stdout: text for people, or with `--json`
 * JSON only. Notes and errors go to stderr, so a pipe sees only results.
 */

/** Prints a result: `value` as one JSON line with `--json`, else the text `render()` makes. */
export function printResult(json: boolean, value: unknown, render: () => string): void {
  if (json) printJson(value);
  else process.stdout.write(render() + '\n');
}

/** Prints one JSON line to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** Prints a note for people to stderr (progress, status, warnings). */
export function note(text: string): void {
  process.stderr.write(text + '\n');
}

/**
 * Reports the error that ended a command: one line `spool: <message>` on stderr and,
 * with `--json`, `{"error":{"code","message"}}` on stdout. A SpoolError is expected and
 * gets no stack; anything else is a bug or an unknown failure, and its stack helps.
 */
export function reportError(err: unknown, json: boolean): void {
  const message = oneLine(err instanceof Error ? err.message : String(err));
  const code = err instanceof SpoolError ? err.code : 'INTERNAL';
  process.stderr.write(`spool: ${message}\n`);
  if (!(err instanceof SpoolError)) {
    const root = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    if (root instanceof Error && root.stack) process.stderr.write(root.stack + '\n');
  }
  if (json) printJson({ error: { code, message } });
}

/** Folds a multi-line message (parseArgs writes some) onto one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
