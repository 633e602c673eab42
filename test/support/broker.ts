/** Brokers (`spool serve`) as real child processes, for the server's fault tests. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { MAIN, childEnv } from './cli.ts';
import type { QueueStats } from '../../src/core/job.ts';
import type { Child } from './child.ts';

/** A running `spool serve --json`, once it has printed its serving line. */
export interface BrokerChild extends Child {
  url: string;
  wsUrl: string;
  port: number;
  /** The SQS endpoint's URL, when started with --sqs-port. */
  sqsUrl?: string;
}

/** Longest a broker may take to print its serving line (a cold start of node, the store, the migrations). */
const SERVE_WAIT_MS = 20_000;

/**
 * Starts `spool serve --store <store> --port <port> --json` with `extra` arguments (e.g. `--set name=value`,
 * `--schema`), and resolves once it serves. Killed with SIGKILL if the test ends with it still running.
 */
export async function startBroker(t: TestContext, store: string, port: number, extra: readonly string[] = []): Promise<BrokerChild> {
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'serve', '--store', store, '--port', String(port), '--json', ...extra], {
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  let onLine: () => void = () => {};
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const p of parts) if (p) lines.push(p);
    onLine();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const serving = await new Promise<{ url: string; wsUrl: string; sqsUrl?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the broker did not start within ${SERVE_WAIT_MS} ms; stderr: ${err}`)), SERVE_WAIT_MS);
    const check = () => {
      const line = lines.find((l) => l.includes('"serving"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { url: string; wsUrl: string; sqsUrl?: string });
      }
    };
    onLine = check;
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the broker exited (${child.exitCode ?? child.signalCode}) before serving; stderr: ${err}`));
    });
  });
  onLine = () => {};
  const listening = Number(new URL(serving.url).port);
  assert.ok(port === 0 || listening === port, `the broker listens on the port asked for (${listening}, not ${port})`);
  return { child, lines, stderr: () => err, exited, url: serving.url, wsUrl: serving.wsUrl, port: listening, ...(serving.sqsUrl ? { sqsUrl: serving.sqsUrl } : {}) };
}

/** Stops a broker gracefully (SIGTERM) and checks that it said so and exited 0. */
export async function stopBroker(broker: BrokerChild): Promise<void> {
  broker.child.kill('SIGTERM');
  await broker.exited;
  assert.equal(broker.child.exitCode, 0, `the broker exits 0 on SIGTERM; stderr: ${broker.stderr()}`);
  assert.ok(broker.lines.some((l) => l.includes('"stopped"')), `the broker reported its stop: ${broker.lines.join(' | ')}`);
}

/** Lines of `c` that start with `prefix`, split on spaces after it. */
export function fields(c: Child, prefix: string): string[][] {
  return c.lines.filter((l) => l.startsWith(prefix + ' ')).map((l) => l.slice(prefix.length + 1).split(' '));
}

/** Resolves once `cond` holds, asking every `everyMs`; fails with `what` after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits until a queue has nothing left to run (a job lost on its way to a worker stays
 * active until its lease ends), then asserts every job of it completed; returns the counts.
 */
export async function untilSettled(queue: { stats(): Promise<QueueStats> }, timeoutMs: number, context: () => string): Promise<QueueStats['counts']> {
  let counts = (await queue.stats()).counts;
  await until(async () => {
    counts = (await queue.stats()).counts;
    return counts.ready + counts.active + counts.scheduled === 0;
  }, timeoutMs, () => `every job to be settled (counts ${JSON.stringify(counts)}; ${context()})`);
  assert.deepEqual({ ...counts, completed: 0 }, { scheduled: 0, ready: 0, active: 0, completed: 0, dead: 0, cancelled: 0 });
  return counts;
}
