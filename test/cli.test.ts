/**
 * End-to-end tests of the `spool` command: every test runs the real CLI as a child
 * process on a real SQLite store in a fresh temporary directory.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { Spool } from '../src/index.ts';
import type { Job, QueueStats } from '../src/index.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Longest a test waits for a child's output or exit before it fails. */
const WAIT_MS = 10_000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh directory for one test, removed afterwards. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'spool-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('SPOOL_STORE' in extra)) delete env.SPOOL_STORE;
  return env;
}

/** Runs `spool <args>` to completion. */
function spool(cwd: string, args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Result> {
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
async function ok(cwd: string, args: readonly string[], options?: { input?: string }): Promise<string> {
  const r = await spool(cwd, args, options);
  assert.equal(r.code, 0, `spool ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Runs `spool <args> --json` and expects exit 0; returns the parsed stdout. */
async function okJson<T>(cwd: string, args: readonly string[]): Promise<T> {
  return JSON.parse(await ok(cwd, [...args, '--json'])) as T;
}

/** A long-running `spool` child (serve, work) whose output the test can wait on. */
class Running {
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
function writeHandler(dir: string): string {
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

function ndjson(count: number, from = 1): string {
  let text = '';
  for (let n = from; n < from + count; n++) text += JSON.stringify({ n }) + '\n';
  return text;
}

async function statsOf(cwd: string, store: string, queue: string): Promise<QueueStats> {
  const [s] = await okJson<QueueStats[]>(cwd, ['stats', queue, '--store', store]);
  assert.ok(s, `no stats for ${queue}`);
  return s;
}

test('--help lists every command and the exit codes; no command is a usage error', async (t) => {
  const dir = tempDir(t);
  const help = await ok(dir, ['--help']);
  for (const name of ['serve', 'add', 'stats', 'jobs', 'job', 'retry', 'cancel', 'work']) assert.match(help, new RegExp(`^  ${name} `, 'm'));
  for (const code of [0, 1, 2, 3, 4, 5]) assert.match(help, new RegExp(`^ +${code}  \\S`, 'm'));
  assert.match(await ok(dir, ['add', '--help']), /--file <path>/);
  assert.match(await ok(dir, ['help', 'jobs']), /--after <id>/);
  const none = await spool(dir, []);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Commands:/);
  assert.equal(existsSync(join(dir, 'spool-data')), false, 'help must not create a store');
});

test('usage errors exit 2 with one line on stderr, and JSON on stdout with --json', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const cases: [string[], RegExp, string][] = [
    [['frobnicate'], /unknown command "frobnicate"/, 'USAGE'],
    [['stats', '--frob'], /Unknown option '--frob'/, 'USAGE'],
    [['add', 'q'], /missing the job payload/, 'USAGE'],
    [['job'], /missing argument/, 'USAGE'],
    [['add', 'q', '{"to":'], /not valid JSON/, 'USAGE'],
    [['add', 'q', '1', '--priority', 'high'], /--priority must be an integer/, 'USAGE'],
    [['add', 'q', '1', '--priority', '5000000'], /priority must be at most 1000000/, 'INVALID_ARGUMENT'],
    [['add', 'bad queue', '1'], /queue name "bad queue" is not valid/, 'INVALID_ARGUMENT'],
  ];
  for (const [args, message, code] of cases) {
    const r = await spool(dir, [...args, '--store', store]);
    assert.equal(r.code, 2, `spool ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^spool: .+\n$/, 'exactly one line, no stack trace');
    assert.match(r.stderr, message);
    const j = await spool(dir, [...args, '--store', store, '--json']);
    assert.equal(j.code, 2);
    assert.deepEqual(Object.keys(JSON.parse(j.stdout).error), ['code', 'message']);
    assert.equal(JSON.parse(j.stdout).error.code, code);
  }
  const stats = await okJson<QueueStats[]>(dir, ['stats', '--store', store]);
  assert.deepEqual(stats, [], 'nothing was added by the failed commands');
});

test('add prints the id and job shows the job with every option applied', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const id = (await ok(dir, ['add', 'emails', '{"to":"a@example.com"}', '--store', store, '--name', 'welcome', '--priority=-5', '--max-attempts', '3'])).trim();
  assert.match(id, UUID_RE);

  const shown = await ok(dir, ['job', id, '--store', store]);
  assert.match(shown, new RegExp(`^id: +${id}$`, 'm'));
  assert.match(shown, /^queue: +emails$/m);
  assert.match(shown, /^name: +welcome$/m);
  assert.match(shown, /^state: +ready$/m);
  assert.match(shown, /^attempt: +0 of 3$/m);
  assert.match(shown, /"to": "a@example.com"/);

  const job = await okJson<Job>(dir, ['job', id, '--store', store]);
  assert.deepEqual(
    { id: job.id, queue: job.queue, name: job.name, payload: job.payload, priority: job.priority, state: job.state, maxAttempts: job.maxAttempts },
    { id, queue: 'emails', name: 'welcome', payload: { to: 'a@example.com' }, priority: -5, state: 'ready', maxAttempts: 3 },
  );

  const delayed = await okJson<Job>(dir, ['add', 'emails', '[1,2]', '--delay', '60000', '--store', store]);
  assert.equal(delayed.state, 'scheduled');
  assert.ok(delayed.runAt >= delayed.createdAt + 60_000);
  assert.equal((await okJson<Job>(dir, ['job', delayed.id, '--store', store])).state, 'scheduled');
});

test('add --file adds thousands of jobs in batches, then stats counts them', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  writeFileSync(join(dir, 'jobs.ndjson'), ndjson(3500));
  const r = await spool(dir, ['add', 'bulk', '--file', 'jobs.ndjson', '--store', store]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^added 3500 jobs to bulk in \d+\.\d\d s \(\d+ jobs\/s\)\n$/);
  assert.equal(r.stderr, '', 'no progress output when stderr is not a terminal');

  const s = await statsOf(dir, store, 'bulk');
  assert.equal(s.counts.ready, 3500);
  assert.equal(s.paused, false);
  const table = await ok(dir, ['stats', '--store', store]);
  assert.match(table, /^QUEUE +SCHEDULED +READY +ACTIVE +COMPLETED +DEAD +CANCELLED +OLDEST READY +PAUSED$/m);
  assert.match(table, /^bulk +0 +3500 +0 +0 +0 +0 +\S+ +no$/m);

  // stdin, blank lines skipped, options apply to every line, --json summary
  const summary = JSON.parse(await ok(dir, ['add', 'piped', '--file', '-', '--priority', '7', '--json', '--store', store], { input: '1\n\n"two"\r\n{"three":3}\n' }));
  assert.equal(summary.added, 3);
  assert.equal(summary.queue, 'piped');
  const { jobs } = await okJson<{ jobs: Job[] }>(dir, ['jobs', 'piped', '--store', store]);
  assert.deepEqual(jobs.map((j) => j.payload), [1, 'two', { three: 3 }]);
  assert.deepEqual(jobs.map((j) => j.priority), [7, 7, 7]);
});

test('add --file stops at a malformed line with exit 2, keeping the batches already written', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  writeFileSync(join(dir, 'bad.ndjson'), ndjson(2500) + '{"n": oops}\n' + ndjson(10, 2502));
  const r = await spool(dir, ['add', 'bulk', '--file', 'bad.ndjson', '--store', store]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^spool: bad\.ndjson line 2501: not valid JSON .*2000 jobs were added \(through line 2000\); nothing from line 2001 on was added\n$/);
  assert.equal((await statsOf(dir, store, 'bulk')).counts.ready, 2000);

  // A payload the engine refuses is reported with its line, too.
  writeFileSync(join(dir, 'big.ndjson'), '1\n2\n' + JSON.stringify('x'.repeat(1_100_000)) + '\n');
  const big = await spool(dir, ['add', 'big', '--file', 'big.ndjson', '--store', store, '--json']);
  assert.equal(big.code, 2);
  assert.equal(JSON.parse(big.stdout).error.code, 'PAYLOAD_TOO_LARGE');
  assert.match(big.stderr, /big\.ndjson line 3: payload is \d+ bytes.*no jobs were added/);

  const missing = await spool(dir, ['add', 'bulk', '--file', 'nope.ndjson', '--store', store]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read nope\.ndjson/);
});

test('jobs lists a state page by page with --after, in JSON and as a table', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  await ok(dir, ['add', 'q', '--file', '-', '--store', store], { input: ndjson(7) });
  const all = (await okJson<{ jobs: Job[]; next: string | null }>(dir, ['jobs', 'q', '--store', store])).jobs;
  assert.equal(all.length, 7);
  await ok(dir, ['cancel', all[2]!.id, '--store', store]);
  const ready = all.filter((_, i) => i !== 2).map((j) => j.id);

  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 5; page++) {
    const args = ['jobs', 'q', '--state', 'ready', '--limit', '4', '--store', store, ...(after ? ['--after', after] : [])];
    const r: { jobs: Job[]; next: string | null } = await okJson(dir, args);
    assert.ok(r.jobs.every((j) => j.state === 'ready'));
    seen.push(...r.jobs.map((j) => j.id));
    after = r.next;
    if (!after) break;
    assert.equal(after, r.jobs.at(-1)!.id);
  }
  assert.deepEqual(seen, ready, 'every ready job once, in creation order');

  const cancelled = await okJson<{ jobs: Job[] }>(dir, ['jobs', 'q', '--state', 'cancelled', '--store', store]);
  assert.deepEqual(cancelled.jobs.map((j) => j.id), [all[2]!.id]);

  const text = await ok(dir, ['jobs', 'q', '--state', 'ready', '--limit', '2', '--store', store]);
  assert.match(text, /^ID +STATE +NAME +PRI +ATTEMPT +CREATED +UPDATED +LAST ERROR$/m);
  assert.match(text, new RegExp(`^${ready[0]} +ready +default +0 +0/5 `, 'm'));
  assert.match(text, new RegExp(`next page: spool jobs q --state ready --limit 2 --after ${ready[1]}$`, 'm'));
});

test('unknown ids exit 3, malformed ids exit 2', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  await ok(dir, ['add', 'q', '1', '--store', store]);
  const unknown = '0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e';
  for (const command of ['job', 'retry', 'cancel']) {
    const r = await spool(dir, [command, unknown, '--store', store, '--json']);
    assert.equal(r.code, 3, `${command}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).error.code, 'JOB_NOT_FOUND');
    assert.match(r.stderr, new RegExp(`^spool: no job with id ${unknown}`));
  }
  const malformed = await spool(dir, ['job', 'not-an-id', '--store', store]);
  assert.equal(malformed.code, 2);
});

test('retry and cancel change states, and refuse finished jobs with exit 4', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  // Complete a job through the engine API, the way a worker would.
  const engine = await Spool.open({ store, maintenance: false });
  const done = await engine.queue('q').add({ n: 1 });
  const [claimed] = await engine.claim('q');
  assert.equal(claimed?.id, done.id);
  await engine.ack({ jobId: done.id, token: claimed.leaseToken }, { ok: true });
  await engine.close();

  for (const command of ['retry', 'cancel']) {
    const r = await spool(dir, [command, done.id, '--store', store, '--json']);
    assert.equal(r.code, 4, `${command}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).error.code, 'INVALID_STATE');
    assert.match(r.stderr, /completed/);
  }
  const shown = await ok(dir, ['job', done.id, '--store', store]);
  assert.match(shown, /^state: +completed$/m);
  assert.match(shown, /^result:\n {2}\{\n {4}"ok": true/m);
  assert.match(shown, /^ {2}1 +completed /m, 'the attempt history');

  const id = (await ok(dir, ['add', 'q', '2', '--store', store])).trim();
  assert.equal(await ok(dir, ['cancel', id, '--store', store]), `cancelled ${id}\n`);
  assert.equal((await okJson<Job>(dir, ['job', id, '--store', store])).state, 'cancelled');
  assert.equal((await spool(dir, ['cancel', id, '--store', store])).code, 4);
  assert.deepEqual(await okJson(dir, ['retry', id, '--store', store]), { id, state: 'ready' });
  assert.equal((await okJson<Job>(dir, ['job', id, '--store', store])).state, 'ready');
  assert.equal((await spool(dir, ['retry', id, '--store', store])).code, 4, 'a ready job cannot be retried');
});

test('commands on a missing or too-new store exit 5; SPOOL_STORE picks the store', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'typo');
  const r = await spool(dir, ['stats', '--store', missing, '--json']);
  assert.equal(r.code, 5);
  assert.equal(JSON.parse(r.stdout).error.code, 'STORE_UNAVAILABLE');
  assert.equal(existsSync(missing), false, 'a read must not create a store');

  const newer = join(dir, 'newer');
  mkdirSync(newer);
  const db = new DatabaseSync(join(newer, 'spool.db'));
  db.exec('PRAGMA user_version = 999');
  db.close();
  const tooNew = await spool(dir, ['stats', '--store', newer, '--json']);
  assert.equal(tooNew.code, 5);
  assert.equal(JSON.parse(tooNew.stdout).error.code, 'SCHEMA_TOO_NEW');

  const viaEnv = join(dir, 'from-env');
  const added = await spool(dir, ['add', 'q', '1'], { env: { SPOOL_STORE: viaEnv } });
  assert.equal(added.code, 0, added.stderr);
  assert.ok(existsSync(join(viaEnv, 'spool.db')));
  assert.equal(existsSync(join(dir, 'spool-data')), false);
});

test('work runs the handler on jobs added before it started and stops gracefully on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const handler = writeHandler(dir);
  await ok(dir, ['add', 'w', '--file', '-', '--store', store], { input: ndjson(20) });
  const failing = (await ok(dir, ['add', 'w', '{"n":99,"fail":true}', '--max-attempts', '1', '--store', store])).trim();

  const worker = new Running(t, dir, ['work', 'w', handler, '--concurrency', '4', '--store', store]);
  await worker.waitFor('20 jobs done and one failure', (w) => (w.stdout.match(/^done \d+$/gm) ?? []).length === 20 && w.stderr.includes(`job ${failing} failed`));
  worker.child.kill('SIGTERM');
  const exit = await worker.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stderr, new RegExp(`job ${failing} failed \\(attempt 1/1, now dead\\): Error: refused 99\n`));
  assert.match(exit.stderr, /stopped; 20 completed, 1 failed/);

  const s = await statsOf(dir, store, 'w');
  assert.deepEqual(s.counts, { scheduled: 0, ready: 0, active: 0, completed: 20, dead: 1, cancelled: 0 });
  const { jobs } = await okJson<{ jobs: Job[] }>(dir, ['jobs', 'w', '--state', 'completed', '--limit', '1', '--store', store]);
  assert.deepEqual(jobs[0]!.result, { doubled: (jobs[0]!.payload as { n: number }).n * 2 });
  const dead = await okJson<Job>(dir, ['job', failing, '--store', store]);
  assert.equal(dead.deadReason, 'max-attempts');
  assert.match(dead.lastError ?? '', /^Error: refused 99/);
});

test('work waits for a running job on SIGTERM, and a second signal exits 130 at once', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const handler = writeHandler(dir);
  const slow = (await ok(dir, ['add', 'slow', '{"n":1,"slowMs":400}', '--store', store])).trim();

  const graceful = new Running(t, dir, ['work', 'slow', handler, '--store', store]);
  await graceful.waitFor('the slow job to start', (w) => w.stdout.includes('start 1'));
  graceful.child.kill('SIGTERM');
  const exit = await graceful.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stdout, /^done 1$/m, 'the running handler was allowed to finish');
  assert.equal((await okJson<Job>(dir, ['job', slow, '--store', store])).state, 'completed');

  const stuck = (await ok(dir, ['add', 'stuck', '{"n":2,"slowMs":60000}', '--store', store])).trim();
  const forced = new Running(t, dir, ['work', 'stuck', handler, '--store', store]);
  await forced.waitFor('the stuck job to start', (w) => w.stdout.includes('start 2'));
  forced.child.kill('SIGTERM');
  await forced.waitFor('the graceful stop to begin', (w) => w.stderr.includes('SIGTERM'));
  forced.child.kill('SIGINT');
  const forcedExit = await forced.exited;
  assert.equal(forcedExit.code, 130, forcedExit.stderr);
  assert.match(forcedExit.stderr, /second SIGINT/);
  assert.equal((await okJson<Job>(dir, ['job', stuck, '--store', store])).state, 'active', 'left for the lease reaper');
});

test('serve prints where its data lives, runs maintenance, and exits 0 on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const delayed = await okJson<Job>(dir, ['add', 'later', '"x"', '--delay', '1', '--store', store]);
  // Short-lived commands run no maintenance: the due job stays scheduled until something promotes it.
  assert.equal((await statsOf(dir, store, 'later')).counts.scheduled, 1);

  const server = new Running(t, dir, ['serve', '--store', store, '--port', '0']);
  await server.waitFor('the serving line', (s) => s.stdout.includes('\n'));
  assert.match(server.stdout, new RegExp(`data in ${join(store, 'spool.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(durability: fsync on commit\\)`));
  const url = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout)?.[1];
  assert.ok(url, server.stdout);
  assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' });

  // serve's maintenance promotes the due job: watch the store from here.
  const engine = await Spool.open({ store, maintenance: false });
  try {
    const deadline = Date.now() + WAIT_MS;
    while ((await engine.get(delayed.id)).state !== 'ready') {
      assert.ok(Date.now() < deadline, 'serve did not promote the due job');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    await engine.close();
  }

  server.child.kill('SIGTERM');
  const exit = await server.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stderr, /stopped/);

  const json = new Running(t, dir, ['serve', '--store', store, '--json', '--port', '0']);
  await json.waitFor('the JSON serving line', (s) => s.stdout.includes('\n'));
  const serving = JSON.parse(json.stdout);
  assert.match(serving.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual({ ...serving, url: undefined }, { status: 'serving', location: join(store, 'spool.db'), durability: 'fsync on commit', url: undefined });
  json.child.kill('SIGINT');
  const jsonExit = await json.exited;
  assert.equal(jsonExit.code, 0);
  assert.deepEqual(jsonExit.stdout.trim().split('\n').map((l) => JSON.parse(l)).at(-1), { status: 'stopped' });
});

test('serve refuses a non-loopback address without --insecure', async (t) => {
  const dir = tempDir(t);
  const r = await spool(dir, ['serve', '--store', join(dir, 'data'), '--host', '0.0.0.0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without authentication/);
});
