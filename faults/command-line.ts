/**
 * What `npm run faults` and `npm run faults:soak` share as commands: their options read strictly
 * (a mistake is said in one line with the usage, exit 2, no stack; `--help` prints the usage),
 * the commit a recorded result names, and how it is written into a page between markers.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

const ROOT = join(import.meta.dirname, '..');

export interface CommandLine<V> {
  values: V;
  /** Says `message` with the usage on stderr and exits 2. */
  usage(message: string): never;
}

/** Reads `process.argv` with `options` (plus `--help`); `program` names the command in messages. */
export function commandLine<V>(program: string, usageText: string, options: NonNullable<ParseArgsConfig['options']>): CommandLine<V> {
  const usage = (message: string): never => {
    process.stderr.write(`${program}: ${message}\n${usageText}\n`);
    process.exit(2);
  };
  let values: Record<string, unknown> = {};
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean', default: false } } }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${usageText}\n`);
    process.exit(0);
  }
  return { values: values as V, usage };
}

/** The short hash of the checked-out commit, or `unknown` outside a git checkout. */
export function currentCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Rewrites what lies between the `start` and `end` markers of `file` to `render(what was there)`. */
export function rewriteBetween(file: string, start: string, end: string, render: (inner: string) => string): void {
  const doc = readFileSync(file, 'utf8');
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${start} … ${end} markers`);
  writeFileSync(file, doc.slice(0, from + start.length) + render(doc.slice(from + start.length, to)) + doc.slice(to));
}
