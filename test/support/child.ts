import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const fixtures = join(import.meta.dirname, '..', 'fixtures');

/** A child process running a test fixture, with its stdout collected line by line. */
export interface Child {
  child: ChildProcess;
  /** Complete stdout lines so far. */
  lines: string[];
  /** Everything written to stderr so far. */
  stderr: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/** Runs `test/fixtures/<script>` under the current Node with `args`. */
export function startFixture(script: string, args: string[]): Child {
  const child = spawn(process.execPath, [join(fixtures, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const p of parts) if (p) lines.push(p);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, lines, stderr: () => err, exited };
}
