/**
 * The broker's log (docs/operations.md, Logs): what each line says, that no API token secret
 * ever reaches it, that a fault's stack is logged but never sent, and the engine's lines
 * (outages, leases reaped, leadership). In-process brokers with real sockets, and `spool serve`
 * as a real child process whose stdout is read as JSON lines.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { connect } from '../client/connect.ts';
import { ServiceRunner } from '../engine/services.ts';
import { Spool } from '../engine/spool.ts';
import type { Store } from '../store/store.ts';
import type { PostgresStore } from '../store/postgres/postgres-store.ts';
import { Authenticator } from './auth/authenticator.ts';
import { createToken } from './auth/tokens.ts';
import { startBroker, type Broker } from './broker.ts';
import { createLogger } from './log-output.ts';
import { CHECK_RESPONSES_ENV } from './response-check.ts';
import { engineLogOptions, LOG_EVENTS, type LogLevel } from './logging.ts';
import { RawWs } from '../../test/support/raw-ws.ts';
import { quiet, waitFor } from '../../test/support/remote.ts';
import { okJson, Running, tempDir } from '../../test/support/cli.ts';
import { startTestPostgres } from '../../test/support/postgres.ts';
import { uniqueSchema } from '../../test/support/pg-url.ts';

type Line = { level: string; msg: string; [field: string]: any };

/** A pino logger (the one `spool serve` makes, JSON form) writing into memory. */
async function memoryLog(level: LogLevel = 'debug') {
  const chunks: string[] = [];
  const logger = await createLogger({ level, format: 'json', sink: { write: (text: string) => void chunks.push(text) } });
  const raw = () => chunks.join('');
  const lines = (): Line[] => raw().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  const named = (msg: string) => lines().filter((l) => l.msg === msg);
  /** Resolves with the lines named `msg` once there are `count` of them. */
  const waitForLines = async (msg: string, count = 1, timeoutMs = 10_000) => {
    await waitFor(`${count} "${msg}" line(s) in the log:\n${raw()}`, () => named(msg).length >= count, timeoutMs);
    return named(msg);
  };
  return { logger, raw, lines, named, waitForLines };
}

/** A memory Spool whose engine logs to `log`, served by a broker that logs there too; closed when the test ends. */
async function brokerWithLog(
  t: TestContext, log: Awaited<ReturnType<typeof memoryLog>>, options: { auth?: boolean; spool?: Parameters<typeof Spool.open>[0]; uncheckedResponses?: boolean } = {},
) {
  const spool = await Spool.open({ store: 'memory', ...quiet, ...engineLogOptions(log.logger), ...options.spool });
  const auth = options.auth ? new Authenticator(spool.store, { mode: 'required' }) : undefined;
  // A 500 is a fault, which docs/openapi.json does not list: the response check (on in tests) would replace it.
  const checking = process.env[CHECK_RESPONSES_ENV];
  if (options.uncheckedResponses) delete process.env[CHECK_RESPONSES_ENV];
  let broker: Broker;
  try {
    broker = await startBroker(spool, { port: 0, logger: log.logger, ...(auth ? { auth } : {}) });
  } finally {
    if (checking !== undefined) process.env[CHECK_RESPONSES_ENV] = checking;
  }
  t.after(async () => {
    await broker.close();
    await spool.close();
  });
  return { spool, broker };
}

/** A token text with the id of `id` and a secret that is not its own. */
const forged = (id: string) => `spool_${id}_${randomBytes(32).toString('base64url')}`;

describe('broker logs', () => {
  it('logs each WebSocket connection when it opens and closes: remote address, client name, token id, never the token', async (t) => {
    const log = await memoryLog();
    const { spool, broker } = await brokerWithLog(t, log, { auth: true });
    const { id, token } = await createToken(spool.store, { name: 'billing', scopes: ['admin'] });
    const [listening] = log.named('broker listening');
    assert.deepEqual({ level: listening!.level, url: listening!.url, wsUrl: listening!.wsUrl }, { level: 'info', url: broker.url, wsUrl: broker.wsUrl });

    const remote = await connect(broker.wsUrl, { ...quiet, token, client: 'billing-worker' });
    const [opened] = await log.waitForLines('connection opened');
    assert.equal(opened!.level, 'info');
    assert.equal(opened!.client, 'billing-worker');
    assert.equal(opened!.tokenId, id);
    assert.equal(opened!.transport, 'ws');
    assert.match(opened!.remote, /^127\.0\.0\.1:\d+$/);
    assert.equal(typeof opened!.conn, 'number');

    await remote.close();
    const [closed] = await log.waitForLines('connection closed');
    assert.equal(closed!.level, 'info');
    assert.deepEqual({ conn: closed!.conn, client: closed!.client, tokenId: closed!.tokenId, remote: closed!.remote }, { conn: opened!.conn, client: 'billing-worker', tokenId: id, remote: opened!.remote });
    assert.equal(typeof closed!.code, 'number');
    assert.equal(typeof closed!.durationMs, 'number');
    assert.ok(!log.raw().includes(token), 'the token is not in the log');
    assert.ok(!log.raw().includes(token.slice(`spool_${id}_`.length)), 'nor its secret');
  });

  it('logs each auth failure with its reason and the token id, never the secret (HTTP, WebSocket upgrade, hello)', async (t) => {
    const log = await memoryLog();
    const { spool, broker } = await brokerWithLog(t, log, { auth: true });
    const { id, token } = await createToken(spool.store, { name: 'ci', scopes: ['admin'] });
    const secrets = [forged(id), forged(id), forged(id), 'not-a-spool-token-4f0c9a7e'];

    const http = await fetch(`${broker.url}/v1/queues`, { headers: { authorization: `Bearer ${secrets[0]}` } });
    assert.equal(http.status, 401);
    await http.body?.cancel();
    await assert.rejects(RawWs.open(broker.wsUrl, { hello: false, headers: { authorization: `Bearer ${secrets[1]}` } }), /401/);
    const hello = await RawWs.open(broker.wsUrl, { hello: false });
    hello.send({ op: 'hello', v: 1, token: secrets[2] });
    assert.equal((await hello.closed).code, 4401);
    const basic = await fetch(`${broker.url}/v1/queues`, { headers: { authorization: `Basic ${secrets[3]}` } });
    assert.equal(basic.status, 401);
    await basic.body?.cancel();

    const failures = await log.waitForLines('auth failed', 4);
    assert.deepEqual(failures.map((l) => [l.level, l.transport, l.code, l.tokenId]), [
      ['warn', 'http', 'UNAUTHORIZED', id],
      ['warn', 'ws', 'UNAUTHORIZED', id],
      ['warn', 'ws', 'UNAUTHORIZED', id],
      ['warn', 'http', 'UNAUTHORIZED', null],
    ]);
    for (const l of failures) assert.equal(typeof l.reason, 'string');
    assert.equal(failures[0]!.method, 'GET');
    assert.equal(failures[0]!.url, '/v1/queues');
    assert.equal(typeof failures[2]!.conn, 'number', 'a refused hello names its connection');
    const text = log.raw();
    for (const secret of [...secrets, token]) assert.ok(!text.includes(secret), `${secret} is not in the log:\n${text}`);
    for (const secret of [...secrets.slice(0, 3), token]) assert.ok(!text.includes(secret.slice(-43)), 'no secret part is in the log');
    // A connection that never said hello closes at debug, not info.
    const [closed] = await log.waitForLines('connection closed');
    assert.equal(closed!.level, 'debug');

    // The dashboard's sign-in check, sent before anyone signed in (no token at all), is not a warning.
    const probe = await fetch(`${broker.url}/dashboard/session`);
    assert.equal(probe.status, 401);
    await probe.body?.cancel();
    const [, , , , quiet] = await log.waitForLines('auth failed', 5);
    assert.deepEqual([quiet!.level, quiet!.url], ['debug', '/dashboard/session']);
  });

  it('logs a fault of the broker at error with its stack; the client gets no stack (HTTP and WebSocket)', async (t) => {
    const log = await memoryLog();
    const { spool, broker } = await brokerWithLog(t, log, { uncheckedResponses: true });
    spool.store.queueStats = async () => {
      throw new Error('disk on fire at sector 7');
    };
    const res = await fetch(`${broker.url}/v1/queues`);
    const body = await res.text();
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(body), { code: 'INTERNAL', message: 'internal error; see the server log' });
    assert.ok(!body.includes('disk on fire') && !/\bat /.test(body), `no internals in the body: ${body}`);

    const [http] = await log.waitForLines('request failed');
    assert.equal(http!.level, 'error');
    assert.deepEqual({ transport: http!.transport, method: http!.method, url: http!.url, status: http!.status, code: http!.code }, { transport: 'http', method: 'GET', url: '/v1/queues', status: 500, code: 'INTERNAL' });
    assert.match(http!.err.message, /disk on fire at sector 7/);
    assert.match(http!.err.stack, /disk on fire at sector 7\n\s+at /);

    const ws = await RawWs.open(broker.wsUrl);
    t.after(() => ws.close());
    const reply = await ws.request({ op: 'call', method: 'stats', params: {} });
    assert.deepEqual(reply.error, { code: 'INTERNAL', message: 'internal error; see the broker log' });
    const [, frame] = await log.waitForLines('request failed', 2);
    assert.deepEqual({ level: frame!.level, transport: frame!.transport, op: frame!.op, code: frame!.code }, { level: 'error', transport: 'ws', op: 'call', code: 'INTERNAL' });
    assert.match(frame!.err.stack, /disk on fire at sector 7\n\s+at /);
  });

  it('logs a client\'s mistake at info without a stack, and an access line per request at debug only', async (t) => {
    const log = await memoryLog('debug');
    const { broker } = await brokerWithLog(t, log);
    const res = await fetch(`${broker.url}/v1/jobs/not-a-uuid`);
    assert.equal(res.status, 400);
    await res.body?.cancel();
    const [failed] = await log.waitForLines('request failed');
    assert.deepEqual({ level: failed!.level, status: failed!.status, code: failed!.code, err: failed!.err }, { level: 'info', status: 400, code: 'INVALID_ARGUMENT', err: undefined });
    const [access] = await log.waitForLines('request completed');
    assert.deepEqual({ level: access!.level, method: access!.method, url: access!.url, status: access!.status }, { level: 'debug', method: 'GET', url: '/v1/jobs/not-a-uuid', status: 400 });
    assert.equal(typeof access!.durationMs, 'number');

    const quietLog = await memoryLog('info');
    const { broker: other } = await brokerWithLog(t, quietLog);
    const ok = await fetch(`${other.url}/healthz`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const notFound = await fetch(`${other.url}/v1/nothing-here`);
    await notFound.body?.cancel();
    await quietLog.waitForLines('request failed'); // the 404: the request after /healthz
    assert.deepEqual(quietLog.named('request completed'), [], 'no access lines at info');
  });

  it('logs the leases the reaper took back from a silent worker: one line per tick, counted per queue', async (t) => {
    const log = await memoryLog();
    const { spool, broker } = await brokerWithLog(t, log, { spool: { maintenanceIntervalMs: 20 } });
    await spool.queue('emails').configure({ visibilityTimeoutMs: 150 });
    const jobs = await spool.queue('emails').addMany([{ payload: 1 }, { payload: 2 }, { payload: 3 }]);
    // A worker takes the three jobs in one delivery, then neither acks nor extends them.
    const worker = await RawWs.open(broker.wsUrl);
    t.after(() => worker.close());
    await worker.ok({ op: 'subscribe', sub: 1, queue: 'emails', credits: 3 });
    const delivered: unknown[] = [];
    while (delivered.length < 3) delivered.push(...(await worker.next((f) => f.op === 'deliver')).jobs);
    assert.equal(delivered.length, 3);
    await waitFor('the three leases to be reaped', async () => (await Promise.all(jobs.map((j) => spool.get(j.id)))).every((j) => j.state !== 'active'));
    await waitFor('the reaper\'s lines', () => log.named('leases reaped').reduce((n, l) => n + l.count, 0) >= 3);
    // The three leases of one delivery end at the same instant: one tick reaps them, and says so in one line.
    assert.deepEqual(log.named('leases reaped').map((l) => [l.level, l.count, l.queues]), [['info', 3, { emails: 3 }]]);
  });

  it('a store outage and its recovery are a line each; leadership taken and lost on PostgreSQL', { timeout: 120_000 }, async (t) => {
    const pg = await startTestPostgres();
    t.after(() => pg.destroy());
    const log = await memoryLog();
    const spool = await Spool.open({
      store: pg.url, schema: uniqueSchema('logs'), ...quiet, ...engineLogOptions(log.logger), maintenanceIntervalMs: 50, leaderLeaseMs: 1000,
    });
    const broker: Broker = await startBroker(spool, { port: 0, logger: log.logger });
    t.after(async () => {
      await broker.close();
      await spool.close();
    });
    const [acquired] = await log.waitForLines('leadership acquired');
    assert.deepEqual({ level: acquired!.level, duty: acquired!.duty }, { level: 'info', duty: 'maintenance' });

    await pg.stop();
    const [down] = await log.waitForLines('unhealthy', 1, 30_000);
    assert.equal(down!.level, 'error');
    assert.match(down!.reason, /PostgreSQL|unreachable|ECONNREFUSED/i);
    // A request during the outage: a warning without a stack (the outage is the line above), and 503 to the client.
    const during = await fetch(`${broker.url}/v1/queues`);
    assert.equal(during.status, 503);
    await during.body?.cancel();
    const failed = (await log.waitForLines('request failed')).at(-1)!;
    assert.deepEqual({ level: failed.level, status: failed.status, code: failed.code, err: failed.err }, { level: 'warn', status: 503, code: 'STORE_UNAVAILABLE', err: undefined });

    await pg.restart();
    const [up] = await log.waitForLines('healthy again', 1, 60_000);
    assert.equal(up!.level, 'info');
    assert.equal(typeof up!.downMs, 'number');
    assert.equal(log.named('unhealthy').length, 1, `the outage is one line, not one per failed call: ${JSON.stringify(log.named('unhealthy').map((l) => l.reason))}`);
    assert.deepEqual(log.named('background error'), [], 'no error lines for the outage besides "unhealthy"');

    // Another process takes the lease row over (as a takeover after a stall past the lease would).
    const store = spool.store as PostgresStore;
    await store.query(`UPDATE ${store.schema}.leaders SET holder = gen_random_uuid(), epoch = epoch + 1, expires_at = now() + interval '1 hour' WHERE name = 'maintenance'`);
    const [lost] = await log.waitForLines('leadership lost', 1, 30_000);
    assert.deepEqual({ level: lost!.level, duty: lost!.duty }, { level: 'warn', duty: 'maintenance' });
  });

  it('leadership lines mark changes only: not leading from the start is no loss, and each change is one event', async () => {
    let leads = false;
    const store = { asLeader: async (_name: string, _holder: string, _ms: number, duty: (s: Store) => Promise<unknown>) => (leads ? { led: true, value: await duty(store) } : { led: false }) } as unknown as Store;
    const changes: boolean[] = [];
    const runner = new ServiceRunner(store, [], { revoke: () => {}, wake: () => {} }, (err) => assert.fail(String(err)), (led) => changes.push(led));
    let tick = 0;
    for (const state of [false, false, true, true, false, false, true]) {
      leads = state;
      await runner.tick({ leaderId: 'me', leaseMs: 1000, now: Date.now(), tick: ++tick });
    }
    assert.deepEqual(changes, [true, false, true]);
  });

  it('a step of the machine\'s clock is a warning: how far, and how long Spool takes to catch up', () => {
    const written: { level: string; fields: object; msg: string }[] = [];
    const at = (level: string) => (fields: object, msg: string) => void written.push({ level, fields, msg });
    const { onEvent } = engineLogOptions({ trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') });
    onEvent({ type: 'clock-stepped', offsetMs: -60_000 });
    assert.deepEqual(written, [{ level: 'warn', fields: { offsetMs: -60_000, catchUpS: 600 }, msg: 'clock stepped' }]);
  });

  it('startBroker refuses a logger that is not one; pino-pretty writes readable lines with the stack of an error', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    t.after(() => spool.close());
    await assert.rejects(startBroker(spool, { port: 0, logger: {} as never }), { field: 'logger', message: /logger must be a pino logger/ });
    await assert.rejects(startBroker(spool, { port: 0, logger: 'info' as never }), { field: 'logger' });

    let text = '';
    const pretty = await createLogger({ format: 'pretty', sink: { write: (s: string) => void (text += s) } });
    pretty.info({ conn: 7, client: 'billing' }, 'connection opened');
    pretty.error({ err: new Error('disk on fire') }, 'request failed');
    assert.match(text, /INFO.*connection opened/);
    assert.match(text, /billing/);
    assert.match(text, /ERROR.*request failed/);
    assert.match(text, /disk on fire\n\s+at /);
    assert.ok(!text.startsWith('{'), 'not JSON');
  });

  it('docs/operations.md lists every line the code can write, with its level', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('\n## Logs'), doc.indexOf('\n## ', doc.indexOf('\n## Logs') + 1));
    assert.ok(section.length > 100, 'docs/operations.md has a "Logs" section');
    const rows = new Map([...section.matchAll(/^\| `([^`]+)` \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]));
    // Every msg the source writes (log.write('<msg>', …)), found by reading it, is in the catalogue and the docs.
    const dir = new URL('./', import.meta.url);
    const files = [
      ...readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => join(dir.pathname, f)),
      new URL('../cli/commands/serve.ts', import.meta.url).pathname,
    ];
    const written = new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\blog\.write\(\s*'([^']+)'/g)].map((m) => m[1]!)));
    assert.ok(written.has('broker listening') && written.has('leases reaped') && written.has('shutdown finished'), `the scan finds the writes: ${[...written].join(', ')}`);
    for (const msg of written) assert.ok(msg in LOG_EVENTS, `"${msg}" is written but not in LOG_EVENTS`);
    for (const [msg, levels] of Object.entries(LOG_EVENTS)) {
      assert.ok(rows.has(msg), `docs/operations.md (Logs) has no row for "${msg}"`);
      for (const level of levels) assert.match(rows.get(msg)!, new RegExp(`\\b${level}\\b`), `the row of "${msg}" names its level ${level}`);
    }
    for (const msg of rows.keys()) assert.ok(msg in LOG_EVENTS, `docs/operations.md lists "${msg}", which the code never writes`);
  });
});

describe('spool serve logs', () => {
  /** The JSON lines of a serve child's stdout (its serving and stopped lines included). */
  const jsonLines = (s: Running): Line[] => s.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  const has = (msg: string, count = 1) => (s: Running) => s.stdout.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length >= count;

  it('writes JSON lines to stdout (not a terminal): listening, connections, an auth failure without the secret, shutdown', async (t) => {
    const dir = tempDir(t);
    const store = join(dir, 'data');
    const { id, token } = await okJson<{ id: string; token: string }>(dir, ['token', 'create', '--scope', 'admin', '--store', store]);
    const serve = new Running(t, dir, ['serve', '--store', store, '--port', '0', '--json']);
    await serve.waitFor('the serving line', has('broker listening'));
    const lines = jsonLines(serve);
    assert.equal(lines[0]!.status, 'serving', 'the serving line stays the first on stdout');
    const { url, wsUrl } = lines[0]!;
    assert.deepEqual(lines.filter((l) => l.msg === 'broker listening').map((l) => [l.level, l.url, l.wsUrl]), [['info', url, wsUrl]]);
    assert.equal(typeof lines[1]!.time, 'string');
    assert.equal(typeof lines[1]!.pid, 'number');

    const remote = await connect(wsUrl, { ...quiet, token, client: 'e2e-worker' });
    await serve.waitFor('the connection opened line', has('connection opened'));
    const bad = forged(id);
    const refused = await fetch(`${url}/v1/queues`, { headers: { authorization: `Bearer ${bad}` } });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    await serve.waitFor('the auth failed line', has('auth failed'));
    await remote.close();
    await serve.waitFor('the connection closed line', has('connection closed'));

    serve.child.kill('SIGTERM');
    const exit = await serve.exited;
    assert.equal(exit.code, 0, exit.stderr);
    const all = jsonLines(serve); // every stdout line is JSON
    const named = (msg: string) => all.filter((l) => l.msg === msg);
    assert.deepEqual(named('connection opened').map((l) => [l.level, l.client, l.tokenId]), [['info', 'e2e-worker', id]]);
    assert.deepEqual(named('connection closed').map((l) => [l.level, l.client, l.tokenId]), [['info', 'e2e-worker', id]]);
    assert.deepEqual(named('auth failed').map((l) => [l.level, l.transport, l.tokenId, l.code]), [['warn', 'http', id, 'UNAUTHORIZED']]);
    assert.deepEqual(named('shutdown begun').map((l) => l.signal), ['SIGTERM']);
    assert.equal(named('shutdown finished').length, 1);
    assert.deepEqual(all.at(-1), { status: 'stopped' });
    const output = serve.stdout + serve.stderr;
    for (const secret of [token, bad, token.slice(-43), bad.slice(-43)]) assert.ok(!output.includes(secret), 'no token secret in the output');
  });

  it('--log-level warn hides the info lines', async (t) => {
    const dir = tempDir(t);
    const store = join(dir, 'data');
    const { id, token } = await okJson<{ id: string; token: string }>(dir, ['token', 'create', '--scope', 'admin', '--store', store]);
    const serve = new Running(t, dir, ['serve', '--store', store, '--port', '0', '--json', '--log-level', 'warn']);
    await serve.waitFor('the serving line', (s) => s.stdout.includes('\n'));
    const { url, wsUrl } = jsonLines(serve)[0]!;
    const remote = await connect(wsUrl, { ...quiet, token, client: 'e2e-worker' }); // would be an info line
    await remote.close();
    const refused = await fetch(`${url}/v1/queues`, { headers: { authorization: `Bearer ${forged(id)}` } });
    await refused.body?.cancel();
    await serve.waitFor('the auth failed line', has('auth failed'));
    serve.child.kill('SIGTERM');
    assert.equal((await serve.exited).code, 0);
    const logged = jsonLines(serve).filter((l) => l.msg !== undefined);
    assert.deepEqual(logged.map((l) => [l.level, l.msg]), [['warn', 'auth failed']]);
  });

  it('refuses an unknown --log-level or --log-format (exit 2)', async (t) => {
    const dir = tempDir(t);
    for (const args of [['--log-level', 'loud'], ['--log-format', 'xml']]) {
      const r = await new Running(t, dir, ['serve', '--store', join(dir, 'data'), '--port', '0', ...args]).exited;
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${args[0]} must be one of`));
    }
  });
});
