/**
 * End-to-end tests of the job and queue commands on a store and through a broker (`--url`):
 * the real CLI as child processes, against SQLite stores and brokers listening on real
 * sockets in this process. Every command must print the same and exit the same both ways.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Spool } from '../src/index.ts';
import type { QueueStats } from '../src/index.ts';
import { Authenticator } from '../src/server/auth/authenticator.ts';
import { startBroker } from '../src/server/broker.ts';
import { Running, ndjson, ok, okJson, spool, tempDir, writeHandler, type Result } from './support/cli.ts';
import { freePort } from './support/ports.ts';

// The children inherit this environment: a broker or token of the developer's must not leak into them.
delete process.env.SPOOL_URL;
delete process.env.SPOOL_TOKEN;

const quiet = { onError: () => {}, log: () => {} };
const UNKNOWN_ID = '0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e';

/** A broker in this process on a SQLite store of its own, on a free port; closed when the test ends. */
async function brokerOn(t: TestContext, store: string, options: { auth?: boolean } = {}): Promise<{ engine: Spool; url: string }> {
  const engine = await Spool.open({ store, maintenance: false, ...quiet });
  // cacheMs 0: the broker asks the store on every request, so a token created by the CLI counts at once.
  const auth = options.auth ? { auth: new Authenticator(engine.store, { cacheMs: 0 }) } : {};
  const broker = await startBroker(engine, { port: 0, ...auth });
  t.after(async () => {
    await broker.close();
    await engine.close();
  });
  return { engine, url: broker.url };
}

/** What varies from run to run (ids, times, durations, rates), replaced so two runs compare equal. */
function normalize(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, '<time>')
    .replace(/"(createdAt|updatedAt|runAt|finishedAt|leaseExpiresAt|oldestReadyAgeMs|seconds|jobsPerSecond)":[\d.]+/g, '"$1":0')
    // A broker measures the traffic it serves; a store opened for one command measured none.
    .replace(/"model":(\{[^{}]*\}|null)/g, '"model":"<model>"')
    .replace(/in \d+\.\d\d s \(\d+ jobs\/s\)/g, 'in <t> s (<n> jobs/s)')
    .replace(/\b\d+(ms|s|m\d\ds)\b/g, '<age>')
    .replace(/ {2,}/g, '  ');
}

/**
 * Every job and queue command, in an order where each step's output is known, with `where`
 * (`--store <dir>` or `--url <broker>`) appended. Returns each step's exit code and normalized output.
 */
async function walk(dir: string, where: readonly string[]): Promise<Record<string, Result>> {
  const out: Record<string, Result> = {};
  const run = async (label: string, args: readonly string[], input?: string): Promise<Result> => {
    const r = await spool(dir, [...args, ...where], input === undefined ? {} : { input });
    out[label] = { code: r.code, stdout: normalize(r.stdout), stderr: normalize(r.stderr) };
    return r;
  };
  // add: one job, as an id and as JSON; many from NDJSON in batches; a malformed line and a payload too large
  const first = (await run('add', ['add', 'q', '{"n":0}', '--name', 'first', '--priority', '3'])).stdout.trim();
  const second = (JSON.parse((await run('add --json', ['add', 'q', '{"n":1}', '--json'])).stdout) as { id: string }).id;
  await run('add --file', ['add', 'q', '--file', '-', '--batch', '2'], ndjson(5));
  await run('add --file, bad line', ['add', 'bad', '--file', '-', '--batch', '2'], ndjson(3) + '{oops\n');
  await run('add --file, too large', ['add', 'big', '--file', '-'], '1\n' + JSON.stringify('x'.repeat(1_100_000)) + '\n');
  await run('add, bad queue', ['add', 'bad queue', '1']);
  // look
  await run('stats', ['stats']);
  await run('stats --json', ['stats', '--json']);
  await run('stats q --json', ['stats', 'q', '--json']);
  await run('jobs', ['jobs', 'q', '--limit', '2']);
  await run('jobs --json', ['jobs', 'q', '--state', 'ready', '--name', 'first', '--json']);
  await run('job', ['job', first]);
  await run('job --json', ['job', second, '--json']);
  await run('job, unknown', ['job', UNKNOWN_ID, '--json']);
  // one job: cancel, retry
  await run('cancel', ['cancel', first]);
  await run('cancel, again', ['cancel', first, '--json']);
  await run('retry', ['retry', first]);
  await run('retry, again', ['retry', first, '--json']);
  await run('retry, not an id', ['retry', 'q']);
  // pause, resume
  await run('pause', ['pause', 'q']);
  await run('pause --json', ['pause', 'q', '--json']);
  await run('stats q, paused', ['stats', 'q', '--json']);
  await run('resume', ['resume', 'q', '--json']);
  // queue settings
  await run('queue get', ['queue', 'get', 'q']);
  await run('queue set', ['queue', 'set', 'q', '--set', 'maxAttempts=7', '--set', 'backoff.type=fixed', '--set', 'backoff.delayMs=250']);
  await run('queue get --json', ['queue', 'get', 'q', '--json']);
  await run('queue set, unknown', ['queue', 'set', 'q', '--set', 'maxAtempts=3', '--json']);
  await run('queue set, out of bounds', ['queue', 'set', 'q', '--set', 'visibilityTimeoutMs=5', '--json']);
  await run('queue set, nothing', ['queue', 'set', 'q']);
  await run('queue set, rate limit', ['queue', 'set', 'q', '--set', 'rateLimit.rate=5', '--set', 'rateLimit.limiter=smtp']);
  await run('queue set, no rate limit', ['queue', 'set', 'q', '--set', 'rateLimit=none', '--json']);
  await run('queue set, key rate limit', ['queue', 'set', 'q', '--set', 'keyRateLimit.rate=3', '--set', 'keyRateLimits={"vip":{"rate":9,"perMs":60000}}']);
  await run('queue set, no key rate limit', ['queue', 'set', 'q', '--set', 'keyRateLimit=none', '--set', 'keyRateLimits={}']);
  // bulk
  await run('cancel --queue', ['cancel', '--queue', 'q', '--state', 'ready', '--batch', '3', '--json']);
  await run('retry --queue', ['retry', '--queue', 'q', '--state', 'cancelled']);
  await run('delete --queue --name', ['delete', '--queue', 'q', '--name', 'first']);
  await run('retry --queue, all skipped', ['retry', '--queue', 'q']);
  await run('bulk, id and --queue', ['cancel', first, '--queue', 'q']);
  // delete one job
  await run('job delete', ['job', 'delete', second]);
  await run('job delete, again', ['job', 'delete', second, '--json']);
  const third = (JSON.parse((await run('jobs, for an id', ['jobs', 'q', '--limit', '1', '--json'])).stdout) as { jobs: { id: string }[] }).jobs[0]!.id;
  await run('delete', ['delete', third, '--json']);
  // purge, then the queue itself
  await run('purge', ['purge', 'q']);
  await run('purge --json', ['purge', 'q', '--json']);
  await run('queue delete', ['queue', 'delete', 'q', '--json']);
  await run('queue get, after delete', ['queue', 'get', 'q', '--json']);
  await run('queue delete, text', ['queue', 'delete', 'bad']);
  // per-key concurrency and group FIFO
  await run('queue set, concurrency', ['queue', 'set', 'keyed', '--set', 'concurrencyLimit=2', '--set', 'concurrencyLimits={"vip":5}', '--set', 'groupFifo=true']);
  await run('queue set, groupFifo not a boolean', ['queue', 'set', 'keyed', '--set', 'groupFifo=yes']);
  await run('add --concurrency-key', ['add', 'keyed', '{"n":1}', '--concurrency-key', 'tenant-a', '--json']);
  await run('add, bad concurrency key', ['add', 'keyed', '{"n":1}', '--concurrency-key', 'x'.repeat(129)]);
  return out;
}

test('every job and queue command prints the same and exits the same on a store and through --url', async (t) => {
  const dir = tempDir(t);
  const { url } = await brokerOn(t, join(dir, 'broker.db'));
  const [local, remote] = await Promise.all([walk(dir, ['--store', join(dir, 'local')]), walk(dir, ['--url', url])]);
  for (const step of Object.keys(local)) assert.deepEqual(remote[step], local[step], `"${step}" differs through --url`);

  // What they print, once.
  const is = (step: string, code: number, stdout: string | RegExp, stderr: string | RegExp = code === 0 ? '' : /^spool: .+\n$/): void => {
    const r = local[step]!;
    assert.equal(r.code, code, `${step}: ${r.stderr}`);
    if (typeof stdout === 'string') assert.equal(r.stdout, stdout, step);
    else assert.match(r.stdout, stdout, step);
    if (typeof stderr === 'string') assert.equal(r.stderr, stderr, step);
    else assert.match(r.stderr, stderr, step);
  };
  is('add', 0, '<id>\n');
  is('add --file', 0, 'added 5 jobs to q in <t> s (<n> jobs/s)\n');
  is('add --file, bad line', 2, '', /^spool: stdin line 4: not valid JSON .*; 2 jobs were added \(through line 2\); nothing from line 3 on was added\n$/);
  is('add --file, too large', 2, '', /^spool: stdin line 2: payload is \d+ bytes as JSON, over the payloadMaxBytes limit .*; no jobs were added\n$/);
  is('add, bad queue', 2, '', /queue name "bad queue" is not valid/);
  is('stats', 0, /^QUEUE {2}SCHEDULED {2}READY .*PAUSED\nbad {2}0 {2}2 .*\nq {2}0 {2}7 {2}0 {2}0 {2}0 {2}0 {2}<age> {2}no\n$/);
  assert.deepEqual((JSON.parse(local['stats --json']!.stdout) as QueueStats[]).map((s) => s.queue), ['bad', 'q']);
  is('jobs', 0, /^ID {2}STATE .*\n<id> {2}ready {2}first {2}3 {2}0\/5 {2}<time> {2}<time> {2}-\n<id> {2}ready {2}default .*\n\nnext page: spool jobs q --limit 2 --after <id>\n$/);
  assert.equal((JSON.parse(local['jobs --json']!.stdout) as { jobs: unknown[] }).jobs.length, 1);
  is('job', 0, /^id: +<id>\nqueue: +q\nname: +first\ngroup: +-\nstate: +ready\n/m);
  is('job, unknown', 3, /"code":"JOB_NOT_FOUND"/);
  is('cancel', 0, 'cancelled <id>\n');
  is('cancel, again', 4, /"code":"INVALID_STATE"/);
  is('retry', 0, 'retried <id>: now ready\n');
  is('retry, again', 4, /"code":"INVALID_STATE"/);
  is('retry, not an id', 2, '', /^spool: retry: "q" is not a job id .*spool retry --queue q\n$/);
  is('pause', 0, 'paused q\n');
  is('pause --json', 0, '{"queue":"q","paused":true}\n');
  assert.equal((JSON.parse(local['stats q, paused']!.stdout) as QueueStats[])[0]!.paused, true);
  is('resume', 0, '{"queue":"q","paused":false}\n');
  is('queue get', 0, /^queue: +q\nvisibilityTimeoutMs: +30000\nmaxAttempts: +5\nmaxStalls: +3\ntimeoutMs: +0\nbackoff\.type: +exponential\nbackoff\.delayMs: +1000\nbackoff\.maxDelayMs: +3600000\nrateLimit: +none\nmaxLength: +none\noverflow: +reject\npolicy: +fifo\nagingMs: +60000\nsjfCostFactor: +10\nsjfLearnPct: +20\nfairWeights: +\{\}\nconcurrencyLimit: +none\nconcurrencyLimits: +\{\}\ngroupFifo: +false\nkeyRateLimit: +none\nkeyRateLimits: +\{\}\nlabels: +\{\}\n$/);
  is('queue set', 0, /^queue: +q\nvisibilityTimeoutMs: +30000\nmaxAttempts: +7\nmaxStalls: +3\ntimeoutMs: +0\nbackoff\.type: +fixed\nbackoff\.delayMs: +250\nrateLimit: +none\nmaxLength: +none\noverflow: +reject\npolicy: +fifo\nagingMs: +60000\nsjfCostFactor: +10\nsjfLearnPct: +20\nfairWeights: +\{\}\nconcurrencyLimit: +none\nconcurrencyLimits: +\{\}\ngroupFifo: +false\nkeyRateLimit: +none\nkeyRateLimits: +\{\}\nlabels: +\{\}\n$/);
  is('queue get --json', 0, '{"name":"q","config":{"visibilityTimeoutMs":30000,"maxAttempts":7,"maxStalls":3,"backoff":{"type":"fixed","delayMs":250},"timeoutMs":0,"rateLimit":null,"maxLength":null,"overflow":"reject","policy":"fifo","agingMs":60000,"sjfCostFactor":10,"sjfLearnPct":20,"fairWeights":{},"concurrencyLimit":null,"concurrencyLimits":{},"groupFifo":false,"keyRateLimit":null,"keyRateLimits":{},"labels":{}}}\n');
  is('queue set, unknown', 2, /"code":"USAGE"/, /^spool: --set maxAtempts: no such queue setting; did you mean maxAttempts\?/);
  is('queue set, out of bounds', 2, /"code":"INVALID_ARGUMENT"/, /^spool: visibilityTimeoutMs must be at least 100 \(got 5\)\n$/);
  is('queue set, nothing', 2, '', /give at least one --set/);
  is('queue set, rate limit', 0, /\nbackoff\.delayMs: +250\nrateLimit\.rate: +5\nrateLimit\.perMs: +1000\nrateLimit\.burst: +5\nrateLimit\.limiter: +smtp\nmaxLength: +none\noverflow: +reject\npolicy: +fifo\nagingMs: +60000\nsjfCostFactor: +10\nsjfLearnPct: +20\nfairWeights: +\{\}\nconcurrencyLimit: +none\nconcurrencyLimits: +\{\}\ngroupFifo: +false\nkeyRateLimit: +none\nkeyRateLimits: +\{\}\nlabels: +\{\}\n$/);
  is('queue set, no rate limit', 0, '{"name":"q","config":{"visibilityTimeoutMs":30000,"maxAttempts":7,"maxStalls":3,"backoff":{"type":"fixed","delayMs":250},"timeoutMs":0,"rateLimit":null,"maxLength":null,"overflow":"reject","policy":"fifo","agingMs":60000,"sjfCostFactor":10,"sjfLearnPct":20,"fairWeights":{},"concurrencyLimit":null,"concurrencyLimits":{},"groupFifo":false,"keyRateLimit":null,"keyRateLimits":{},"labels":{}}}\n');
  is('queue set, key rate limit', 0, /\ngroupFifo: +false\nkeyRateLimit\.rate: +3\nkeyRateLimit\.perMs: +1000\nkeyRateLimit\.burst: +3\nkeyRateLimits: +\{"vip":\{"rate":9,"perMs":60000,"burst":9\}\}\nlabels: +\{\}\n$/);
  is('queue set, no key rate limit', 0, /\ngroupFifo: +false\nkeyRateLimit: +none\nkeyRateLimits: +\{\}\nlabels: +\{\}\n$/);
  is('cancel --queue', 0, '{"matched":7,"changed":7,"skipped":0}\n');
  is('retry --queue', 0, 'retried 7 cancelled jobs of q (7 matched, 0 skipped, 1 batch)\n');
  is('delete --queue --name', 0, 'deleted 1 job of q with name first (1 matched, 0 skipped, 1 batch)\n');
  is('retry --queue, all skipped', 0, 'retried 0 jobs of q (6 matched, 6 skipped, 1 batch)\n');
  is('bulk, id and --queue', 2, '', /give a job id or --queue, not both/);
  is('job delete', 0, 'deleted <id>\n');
  is('job delete, again', 3, /"code":"JOB_NOT_FOUND"/);
  is('delete', 0, '{"id":"<id>","deleted":true}\n');
  is('purge', 0, 'purged 4 waiting jobs from q\n');
  is('purge --json', 0, '{"queue":"q","purged":0}\n');
  is('queue delete', 0, '{"name":"q","jobsDeleted":0}\n');
  is('queue get, after delete', 3, /"code":"QUEUE_NOT_FOUND"/);
  is('queue delete, text', 0, 'deleted queue bad and its 2 jobs\n');
  is('queue set, concurrency', 0, /\nconcurrencyLimit: +2\nconcurrencyLimits: +\{"vip":5\}\ngroupFifo: +true\nkeyRateLimit: +none\nkeyRateLimits: +\{\}\nlabels: +\{\}\n$/);
  is('queue set, groupFifo not a boolean', 2, '', /--set groupFifo needs true or false/);
  is('add --concurrency-key', 0, /"concurrencyKey":"tenant-a"/);
  is('add, bad concurrency key', 2, '', /concurrencyKey/);
});

test('SPOOL_URL and SPOOL_TOKEN choose the broker and the token; --token wins; a token without the scope exits 1 naming it', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'broker.db');
  const { url } = await brokerOn(t, store, { auth: true });
  const admin = await okJson<{ token: string }>(dir, ['token', 'create', '--scope', 'admin', '--store', store]);
  const publisher = await okJson<{ token: string }>(dir, ['token', 'create', '--scope', 'publish:orders.*', '--store', store]);
  const env = (token?: string): Record<string, string> => ({ SPOOL_URL: url, ...(token ? { SPOOL_TOKEN: token } : {}) });

  const none = await spool(dir, ['stats', '--json'], { env: env() });
  assert.equal(none.code, 1, none.stderr);
  assert.equal(JSON.parse(none.stdout).error.code, 'UNAUTHORIZED');
  assert.match(none.stderr, /^spool: .*this broker needs an API token; pass it with --token or SPOOL_TOKEN .*\n$/);
  const wrong = await spool(dir, ['stats', '--json'], { env: env('spool_000000000000_nope') });
  assert.equal(wrong.code, 1);
  assert.equal(JSON.parse(wrong.stdout).error.code, 'UNAUTHORIZED');

  const added = await spool(dir, ['add', 'orders.eu', '{"n":1}'], { env: env(publisher.token) });
  assert.equal(added.code, 0, added.stderr);
  const paused = await spool(dir, ['pause', 'orders.eu', '--json'], { env: env(publisher.token) });
  assert.equal(paused.code, 1);
  assert.deepEqual(JSON.parse(paused.stdout).error, { code: 'FORBIDDEN', message: 'this token lacks admin' });
  assert.equal(paused.stderr, 'spool: this token lacks admin\n');
  const other = await spool(dir, ['add', 'other', '1'], { env: env(publisher.token) });
  assert.equal(other.code, 1);
  assert.equal(other.stderr, 'spool: this token lacks publish:other\n');
  const bulk = await spool(dir, ['retry', '--queue', 'orders.eu'], { env: env(publisher.token) });
  assert.equal(bulk.code, 1);
  assert.match(bulk.stderr, /lacks admin/);

  // --token beats SPOOL_TOKEN; --url beats SPOOL_URL.
  const withFlag = await spool(dir, ['pause', 'orders.eu', '--token', admin.token], { env: env(publisher.token) });
  assert.equal(withFlag.code, 0, withFlag.stderr);
  assert.equal(withFlag.stdout, 'paused orders.eu\n');
  const flagUrl = await spool(dir, ['stats', 'orders.eu', '--json', '--url', url], { env: { SPOOL_URL: 'http://127.0.0.1:9', SPOOL_TOKEN: admin.token } });
  assert.equal(flagUrl.code, 0, flagUrl.stderr);
  assert.equal((JSON.parse(flagUrl.stdout) as QueueStats[])[0]!.paused, true);

  // A publisher reads only the queues it may publish to.
  await ok(dir, ['add', 'secret', '1', '--url', url, '--token', admin.token]);
  const seen = await spool(dir, ['stats', '--json'], { env: env(publisher.token) });
  assert.equal(seen.code, 0, seen.stderr);
  assert.deepEqual((JSON.parse(seen.stdout) as QueueStats[]).map((s) => s.queue), ['orders.eu']);
});

test('a broker URL as --store (or SPOOL_STORE) is a usage error pointing to --url; so are --url with --store, and --url where a store is needed', async (t) => {
  const dir = tempDir(t);
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['add', 'q', '1', '--store', 'ws://127.0.0.1:7600'], {}, /--store ws:\/\/127\.0\.0\.1:7600 is a broker's URL, not a store .*pass --url http:\/\/127\.0\.0\.1:7600/],
    [['add', 'q', '1', '--store', 'wss://broker.example/v1/ws'], {}, /pass --url https:\/\/broker\.example /],
    [['stats', '--store', 'http://127.0.0.1:7600'], {}, /is a broker's URL/],
    [['stats', '--store', 'https://broker.example'], {}, /is a broker's URL/],
    [['stats'], { SPOOL_STORE: 'ws://127.0.0.1:7600' }, /^spool: SPOOL_STORE=ws:\/\/127\.0\.0\.1:7600 is a broker's URL/],
    [['stats', '--store', 'data', '--url', 'http://127.0.0.1:7600'], {}, /give --store .* or --url .*, not both/],
    [['stats'], { SPOOL_URL: 'http://127.0.0.1:7600', SPOOL_STORE: 'data' }, /SPOOL_URL and SPOOL_STORE are both set/],
    [['stats', '--url', 'ws://127.0.0.1:7600/v1/ws'], {}, /--url takes the broker's HTTP URL, e\.g\. --url http:\/\/127\.0\.0\.1:7600 /],
    [['stats', '--url', 'localhost'], {}, /--url must be the broker's URL, http:\/\/host:port/],
    [['stats', '--token', 'x'], {}, /--token goes with --url/],
    [['serve', '--url', 'http://127.0.0.1:7600'], {}, /spool serve works on a store, not through a broker/],
    [['token', 'list', '--url', 'http://127.0.0.1:7600'], {}, /spool token works on a store/],
    [['migrate', '--url', 'http://127.0.0.1:7600'], {}, /spool migrate works on a store/],
  ];
  for (const [args, env, message] of cases) {
    const r = await spool(dir, [...args, '--json'], { env });
    assert.equal(r.code, 2, `spool ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^spool: .+\n$/, 'one line');
    assert.match(r.stderr, message);
    assert.equal(JSON.parse(r.stdout).error.code, 'USAGE');
  }
  assert.deepEqual(readdirSync(dir), [], 'nothing was created: no store named "ws:", no spool-data');
});

test('an unreachable --url exits 5 with one line naming the URL and saying to check the broker runs', async (t) => {
  const dir = tempDir(t);
  const url = `http://127.0.0.1:${await freePort()}`;
  for (const args of [['stats'], ['add', 'q', '1'], ['queue', 'get', 'q'], ['retry', '--queue', 'q']]) {
    const r = await spool(dir, [...args, '--url', url]);
    assert.equal(r.code, 5, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^spool: cannot reach the broker at ${url.replace(/[.]/g, '\\.')}: .*; check that the broker is running \\(spool serve\\) and that --url \\(or SPOOL_URL\\) is right\\n$`));
  }
  const json = await spool(dir, ['stats', '--json'], { env: { SPOOL_URL: url } });
  assert.equal(json.code, 5);
  assert.equal(JSON.parse(json.stdout).error.code, 'STORE_UNAVAILABLE');
  assert.deepEqual(readdirSync(dir), []);
});

/** Adds `count` jobs to `queue` that each fail once, unrecoverably: `count` dead jobs. */
async function deadJobs(engine: Spool, queue: string, count: number): Promise<void> {
  for (let added = 0; added < count; added += 1000) {
    await engine.addMany(queue, Array.from({ length: Math.min(1000, count - added) }, (_, i) => ({ payload: { n: added + i }, maxAttempts: 1 })));
  }
  for (;;) {
    const claimed = await engine.claim(queue, 256);
    if (claimed.length === 0) break;
    await Promise.all(claimed.map((j) => engine.nack({ jobId: j.id, token: j.leaseToken }, 'boom', { unrecoverable: true })));
  }
  assert.equal((await engine.stats(queue))[0]!.counts.dead, count);
}

test('bulk retry of 2,500 dead jobs goes batch after batch to the end, on a store and through --url, with the final count', async (t) => {
  const dir = tempDir(t);
  const localStore = join(dir, 'local.db');
  const local = await Spool.open({ store: localStore, maintenance: false, ...quiet });
  await deadJobs(local, 'dq', 2500);
  await local.close();
  const { engine, url } = await brokerOn(t, join(dir, 'broker.db'));
  await deadJobs(engine, 'dq', 2500);

  for (const where of [['--store', localStore], ['--url', url]]) {
    const r = await spool(dir, ['retry', '--queue', 'dq', '--state', 'dead', ...where]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'retried 2500 dead jobs of dq (2500 matched, 0 skipped, 3 batches)\n');
    assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal');
    const [s] = await okJson<QueueStats[]>(dir, ['stats', 'dq', ...where]);
    assert.deepEqual(s!.counts, { scheduled: 0, ready: 2500, active: 0, completed: 0, dead: 0, cancelled: 0 });

    const cancelled = await okJson(dir, ['cancel', '--queue', 'dq', '--state', 'ready', '--batch', '600', ...where]);
    assert.deepEqual(cancelled, { matched: 2500, changed: 2500, skipped: 0 });
    const deleted = await okJson(dir, ['delete', '--queue', 'dq', '--batch', '10000', ...where]);
    assert.deepEqual(deleted, { matched: 2500, changed: 2500, skipped: 0 });
    assert.deepEqual((await okJson<{ jobs: unknown[] }>(dir, ['jobs', 'dq', ...where])).jobs, []);
  }
});

test('work --url runs the handler on the broker\'s jobs and stops gracefully on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const { engine, url } = await brokerOn(t, join(dir, 'broker.db'));
  const handler = writeHandler(dir);
  await ok(dir, ['add', 'w', '--file', '-', '--url', url], { input: ndjson(3) });
  const worker = new Running(t, dir, ['work', 'w', handler, '--url', url, '--concurrency', '2']);
  await worker.waitFor('3 jobs done', (w) => (w.stdout.match(/^done \d+$/gm) ?? []).length === 3);
  assert.match(worker.stderr, new RegExp(`spool work: w from ${url.replace(/[.]/g, '\\.')}, concurrency 2`));
  worker.child.kill('SIGTERM');
  const exit = await worker.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stderr, /stopped; 3 completed, 0 failed/);
  assert.equal((await engine.stats('w'))[0]!.counts.completed, 3);
});

test('--version and -v print the version of package.json', async (t) => {
  const dir = tempDir(t);
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(await ok(dir, ['--version']), `${version}\n`);
  assert.equal(await ok(dir, ['-v']), `${version}\n`);
  assert.deepEqual(JSON.parse(await ok(dir, ['--version', '--json'])), { version });
  assert.match(await ok(dir, ['--help']), /spool --version/);
  assert.equal(existsSync(join(dir, 'spool-data')), false);
});
