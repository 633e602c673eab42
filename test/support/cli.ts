/** Helpers for the end-to-end tests of the `spool` command (real child processes, real SQLite files). */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import type { QueueStats } from '../../src/index.ts';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Longest a test waits for a child's output or exit before it fails. */
export const WAIT_MS = 10_000;

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh directory for one test, removed afterwards. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'spool-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('SPOOL_STORE' in extra)) delete env.SPOOL_STORE;
  return env;
}

/** Runs `spool <args>` to completion. */
export function spool(cwd: string, args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, env: childEnv(options.env), timeout: WAIT_MS, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `spool <args>` and expects exit 0; returns stdout. */
export async function ok(cwd: string, args: readonly string[], options?: { input?: string }): Promise<string> {
  const r = await spool(cwd, args, options);
  assert.equal(r.code, 0, `spool ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Runs `spool <args> --json` and expects exit 0; returns the parsed stdout. */
export async function okJson<T>(cwd: string, args: readonly string[]): Promise<T> {
  return JSON.parse(await ok(cwd, [...args, '--json'])) as T;
}

/** A long-running `spool` child (serve, work) whose output the test can wait on. */
export class Running {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Result>;
  #waiters: (() => void)[] = [];

  /** Starts `spool <args>`; if the test ends (or fails) with the child still running, the child is killed. */
  constructor(t: TestContext, cwd: string, args: readonly string[]) {
    this.child = spawn(process.execPath, [MAIN, ...args], { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.#append('stdout', d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => this.#append('stderr', d));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr })));
  }

  /** Resolves once `predicate` holds for the output so far; fails after WAIT_MS or if the child exits first. */
  async waitFor(what: string, predicate: (r: Running) => boolean): Promise<void> {
    const deadline = AbortSignal.timeout(WAIT_MS);
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (!predicate(this)) {
      if (deadline.aborted || exited) {
        assert.fail(`${exited ? 'the child exited' : 'timed out'} waiting for ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100); // also re-check now and then, to notice the deadline and an exit
      });
    }
  }

  #append(stream: 'stdout' | 'stderr', data: string): void {
    this[stream] += data;
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** Writes a handler module into `dir` and returns its file name (relative to `dir`). */
export function writeHandler(dir: string): string {
  writeFileSync(
    join(dir, 'handler.ts'),
    `export default async function handle(job: { id: string; payload: { n: number; fail?: boolean; slowMs?: number } }, ctx: { signal: AbortSignal }) {
  if (job.payload.slowMs) {
    console.log('start ' + job.payload.n);
    await new Promise((resolve) => setTimeout(resolve, job.payload.slowMs));
  }
  if (job.payload.fail) throw new Error('refused ' + job.payload.n + '\\nstack line');
  console.log('done ' + job.payload.n);
  return { doubled: job.payload.n * 2 };
}
`,
  );
  return 'handler.ts';
}

export function ndjson(count: number, from = 1): string {
  let text = '';
  for (let n = from; n < from + count; n++) text += JSON.stringify({ n }) + '\n';
  return text;
}

export async function statsOf(cwd: string, store: string, queue: string): Promise<QueueStats> {
  const [s] = await okJson<QueueStats[]>(cwd, ['stats', queue, '--store', store]);
  assert.ok(s, `no stats for ${queue}`);
  return s;
}
