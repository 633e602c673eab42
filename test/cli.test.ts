/**
 * End-to-end tests of the short `spool` commands: every test runs the real CLI as a child
 * process on a real SQLite store in a fresh temporary directory.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { Spool } from '../src/index.ts';
import type { Job, QueueStats } from '../src/index.ts';
import { UUID_RE, ndjson, ok, okJson, spool, statsOf, tempDir } from './support/cli.ts';

test('--help lists every command and the exit codes; no command is a usage error', async (t) => {
  const dir = tempDir(t);
  const help = await ok(dir, ['--help']);
  for (const name of ['serve', 'add', 'stats', 'top', 'jobs', 'job', 'retry', 'cancel', 'delete', 'pause', 'resume', 'purge', 'queue', 'work', 'migrate', 'token']) assert.match(help, new RegExp(`^  ${name} `, 'm'));
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
  assert.equal(existsSync(store), false, 'the failed commands created no store: their input is checked before the store is opened');
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

test('add --requires stores the resource tags; job shows them; stats counts the jobs no live worker can take', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const job = await okJson<Job>(dir, ['add', 'renders', '{"scene":7}', '--store', store, '--requires', 'region:eu,gpu']);
  assert.deepEqual(job.requires, ['gpu', 'region:eu']);
  assert.match(await ok(dir, ['job', job.id, '--store', store]), /^requires: +gpu,region:eu$/m);
  await ok(dir, ['add', 'renders', '{"thumb":7}', '--store', store]);
  const [stats] = await okJson<QueueStats[]>(dir, ['stats', 'renders', '--store', store]);
  assert.deepEqual([stats!.counts.ready, stats!.unservable], [2, 1], 'no worker is live: the gpu job cannot be taken');
  assert.match(await ok(dir, ['stats', '--store', store]), /UNSERVABLE\n.*renders .* 1\s*$/s);
  await spool(dir, ['add', 'renders', '{}', '--store', store, '--requires', 'no spaces']).then((r) => assert.equal(r.code, 2, r.stderr));
});

test('add --timeout sets the job\'s timeout; job shows progress; job logs prints its lines; an unknown queue exits 3', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const id = (await ok(dir, ['add', 'crawl', '{"site":"a"}', '--timeout', '5000', '--store', store])).trim();
  assert.equal((await okJson<Job>(dir, ['job', id, '--store', store])).timeoutMs, 5000);
  assert.match(await ok(dir, ['job', id, '--store', store]), /^timeout: +5(\.0)? ?s$/m);
  assert.equal(await ok(dir, ['job', 'logs', id, '--store', store]), 'no log lines\n');

  // A handler's report, made through the API on the same store file.
  const spoolApi = await Spool.open({ store, maintenance: false });
  try {
    const [claimed] = await spoolApi.claim('crawl', 1);
    await spoolApi.report({ jobId: id, token: claimed!.leaseToken }, { progress: { pages: 3 }, logs: ['page 1', 'page 2'] });
  } finally {
    await spoolApi.close();
  }
  assert.match(await ok(dir, ['job', id, '--store', store]), /^progress: +\{"pages":3\}$/m);
  assert.match(await ok(dir, ['jobs', 'crawl', '--store', store]), /\{"pages":3\}/);
  assert.match(await ok(dir, ['job', 'logs', id, '--store', store]), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  #1  page 1\n.*  #1  page 2\n$/);
  const logs = await okJson<{ lines: { attempt: number; line: string }[] }>(dir, ['job', 'logs', id, '--store', store]);
  assert.deepEqual(logs.lines.map((l) => [l.attempt, l.line]), [[1, 'page 1'], [1, 'page 2']]);

  const typo = await spool(dir, ['stats', 'crawll', '--store', store, '--json']);
  assert.equal(typo.code, 3, typo.stderr);
  assert.equal(JSON.parse(typo.stdout).error.code, 'QUEUE_NOT_FOUND');
  assert.match(typo.stderr, /^spool: no queue named crawll/);
  assert.equal((await spool(dir, ['pause', 'crawll', '--store', store])).code, 3, 'pause never creates a queue');
  assert.equal((await spool(dir, ['job', 'logs', '0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e', '--store', store])).code, 3);
});

test('top prints every queue with its counts and model once (not a terminal), and the overview with --json', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  await ok(dir, ['add', 'emails', '{"to":"a@example.com"}', '--store', store]);
  await ok(dir, ['add', 'emails', '{"to":"b@example.com"}', '--store', store]);
  const text = await ok(dir, ['top', '--store', store]);
  assert.match(text, /^spool top — /);
  assert.match(text, /^QUEUE +READY +ACTIVE +SCHED +DEAD +λ IN +μ DONE +FAILED +ρ +SLOTS +W +OLDEST +DRAIN$/m);
  assert.match(text, /^emails +2 +0 +0 +0 +0 +0 +0 +- +0 +- +\S+ +-$/m);
  const o = await okJson<{ queues: { queue: string; counts: { ready: number }; model: { length: number; arrivalRate: number } }[] }>(dir, ['top', '--store', store]);
  assert.deepEqual(o.queues.map((q) => [q.queue, q.counts.ready, q.model.length, q.model.arrivalRate]), [['emails', 2, 2, 0]]);
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
  assert.match(text, /^ID +STATE +NAME +PRI +ATTEMPT +CREATED +UPDATED +PROGRESS +LAST ERROR$/m);
  assert.match(text, new RegExp(`^${ready[0]} +ready +default +0 +0/5 `, 'm'));
  assert.match(text, new RegExp(`next page: spool jobs q --state ready --limit 2 --after ${ready[1]}$`, 'm'));
});

test('jobs filters by a payload field (--where) and a creation time range', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const lines = [{ user: { id: 12345 } }, { user: { id: '12345' } }, { user: { id: 7 } }].map((p) => JSON.stringify(p)).join('\n') + '\n';
  await ok(dir, ['add', 'o', '--file', '-', '--store', store], { input: lines });
  const all = (await okJson<{ jobs: Job[] }>(dir, ['jobs', 'o', '--store', store])).jobs;
  const where = async (...args: string[]) => (await okJson<{ jobs: Job[]; next: string | null }>(dir, ['jobs', 'o', '--store', store, ...args])).jobs.map((j) => j.id);
  assert.deepEqual(await where('--where', 'user.id=12345'), [all[0]!.id], 'a number');
  assert.deepEqual(await where('--where', 'user.id="12345"'), [all[1]!.id], 'a quoted string');
  const created = new Date(all[0]!.createdAt).toISOString();
  assert.deepEqual(await where('--where', 'user.id=7', '--created-after', created, '--created-before', String(Date.now() + 60_000)), [all[2]!.id]);
  assert.deepEqual(await where('--created-before', String(all[0]!.createdAt - 1)), []);
  const bad = await spool(dir, ['jobs', 'o', '--store', store, '--where', 'user.id']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--where must be <path>=<value>/);
  const badTime = await spool(dir, ['jobs', 'o', '--store', store, '--created-after', 'yesterday']);
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /--created-after must be an ISO 8601 time/);
  const badPath = await spool(dir, ['jobs', 'o', '--store', store, '--where', 'user..id=1']);
  assert.equal(badPath.code, 2);
  assert.match(badPath.stderr, /payload\.?[pP]ath/);
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
