/**
 * End-to-end tests of `spool token`: the real CLI as a child process on a real SQLite
 * store (and on the test PostgreSQL), and brokers that enforce what the CLI created: one in
 * the test process, and real `spool serve` children over HTTP and the WebSocket `hello`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { ManualClock } from '../src/core/clock.ts';
import { LIMITS } from '../src/core/limits.ts';
import { Spool } from '../src/index.ts';
import { CLOSE } from '../src/protocol/frames.ts';
import { buildHttpApi } from '../src/server/app.ts';
import { Authenticator } from '../src/server/auth/authenticator.ts';
import { createToken } from '../src/server/auth/tokens.ts';
import { startBroker, stopBroker, type BrokerChild } from './support/broker.ts';
import { ok, okJson, spool, tempDir } from './support/cli.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';
import { RawWs } from './support/raw-ws.ts';

interface Created {
  id: string;
  name: string;
  token: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
}

interface Listed {
  id: string;
  name: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

const DAY = 86_400_000;

test('token create prints the token once; list shows neither it nor its hash; revoke deletes it', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const text = await spool(dir, ['token', 'create', '--scope', 'publish:orders.*', '--scope', 'consume:orders.*', '--name', 'ci', '--store', store]);
  assert.equal(text.code, 0, text.stderr);
  const token = /^token: +(spool_[0-9a-f]{12}_\S{43})$/m.exec(text.stdout)?.[1];
  assert.ok(token, text.stdout);
  const id = token.slice(6, 18);
  assert.match(text.stdout, new RegExp(`^id: +${id}$`, 'm'));
  assert.match(text.stdout, /^scopes: +publish:orders\.\*, consume:orders\.\*$/m);
  assert.match(text.stdout, /^expires: +never$/m);
  assert.match(text.stderr, /cannot show it again/);
  assert.match(text.stderr, /this is the first token.*even after the last token is revoked/);

  const created = await okJson<Created>(dir, ['token', 'create', '--scope', 'admin', '--store', store]);
  assert.deepEqual([created.name, created.scopes, created.expiresAt], ['', ['admin'], null]);
  assert.match(created.token, /^spool_[0-9a-f]{12}_/);

  const listed = await ok(dir, ['token', 'list', '--store', store]);
  assert.match(listed, /^ID +NAME +SCOPES +CREATED +EXPIRES +LAST USED$/m);
  assert.match(listed, new RegExp(`^${id} +ci +publish:orders\\.\\* consume:orders\\.\\* +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +never +never$`, 'm'));
  assert.match(listed, new RegExp(`^${created.id} +- +admin `, 'm'));
  const json = await okJson<Listed[]>(dir, ['token', 'list', '--store', store]);
  const keys = ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'scopes'];
  assert.deepEqual(json.map((r) => Object.keys(r).sort()), [keys, keys]);
  assert.deepEqual(json.map((r) => [r.expiresAt, r.lastUsedAt]), [[null, null], [null, null]]);
  for (const secret of [token, created.token]) {
    const hash = createHash('sha256').update(secret).digest('hex');
    for (const out of [listed, JSON.stringify(json)]) {
      assert.ok(!out.includes(secret.slice(19)) && !out.includes(hash), 'neither a token nor its hash is ever printed again');
    }
  }

  const first = await spool(dir, ['token', 'revoke', id, '--store', store]);
  assert.equal(first.stdout.trim(), `revoked ${id}`);
  assert.doesNotMatch(first.stderr, /last token/, 'one is left');
  const last = await spool(dir, ['token', 'revoke', created.token, '--store', store, '--json']);
  assert.deepEqual(JSON.parse(last.stdout), { id: created.id, revoked: true }, 'a pasted token is revoked by its id');
  assert.match(last.stderr, /that was the last token: brokers in auto mode stay closed: every request needs a token until you create one \(spool token create\), or a broker is started with --auth off/);
  const again = await spool(dir, ['token', 'revoke', id, '--store', store, '--json']);
  assert.equal(again.code, 3);
  assert.equal(JSON.parse(again.stdout).error.code, 'TOKEN_NOT_FOUND');
  assert.match(await ok(dir, ['token', 'list', '--store', store]), /^no tokens: brokers in auto mode stay closed/);
  const next = await spool(dir, ['token', 'create', '--scope', 'admin', '--store', store]);
  assert.doesNotMatch(next.stderr, /first token/, 'the store has had tokens: this one is not the first');
});

test('token create --ttl: s, m, h or d; the expiry is createdAt + ttl; list shows it', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  for (const [ttl, ms] of [['30d', 30 * DAY], ['12h', 12 * 3_600_000], ['15m', 15 * 60_000], ['90s', 90_000]] as const) {
    const created = await okJson<Created>(dir, ['token', 'create', '--scope', 'admin', '--ttl', ttl, '--store', store]);
    assert.equal(created.expiresAt, created.createdAt + ms, ttl);
  }
  const text = await ok(dir, ['token', 'create', '--scope', 'admin', '--ttl', '30d', '--store', store]);
  assert.match(text, /^expires: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in 30d00h\)$/m);
  const listed = await okJson<Listed[]>(dir, ['token', 'list', '--store', store]);
  assert.ok(listed.every((r) => r.expiresAt !== null && r.expiresAt > r.createdAt));
  assert.match(await ok(dir, ['token', 'list', '--store', store]), /^[0-9a-f]{12} +- +admin +\S+ \S+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +never$/m);
});

test('token usage errors exit 2 (a --ttl out of the limit tokenTtlMs too); reading a missing store exits 5', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const maxDays = LIMITS.tokenTtlMs.max / DAY;
  assert.ok(Number.isInteger(maxDays), 'tokenTtlMs is a whole number of days');
  const cases: [string[], RegExp, string][] = [
    [['token'], /missing argument/, 'USAGE'],
    [['token', 'frob'], /unknown token action "frob"/, 'USAGE'],
    [['token', 'create'], /at least one --scope/, 'USAGE'],
    [['token', 'create', '--scope', 'write:orders'], /scope "write:orders" is not valid/, 'INVALID_ARGUMENT'],
    [['token', 'create', '--scope', 'publish:bad name'], /queue pattern must be/, 'INVALID_ARGUMENT'],
    [['token', 'create', '--scope', 'admin', '--ttl', '0d'], /--ttl must be more than 0; leave it out for a token that never expires/, 'USAGE'],
    [['token', 'create', '--scope', 'admin', '--ttl', '2y'], /--ttl must be a whole number and a unit, s, m, h or d/, 'USAGE'],
    [['token', 'create', '--scope', 'admin', '--ttl', '30'], /--ttl must be a whole number and a unit/, 'USAGE'],
    [['token', 'create', '--scope', 'admin', '--ttl=-1d'], /--ttl must be a whole number and a unit/, 'USAGE'],
    [['token', 'create', '--scope', 'admin', '--ttl', `${maxDays + 1}d`], new RegExp(`--ttl must be at most ${maxDays}d \\(the limit tokenTtlMs\\) \\(got ${maxDays + 1}d\\)`), 'USAGE'],
    [['token', 'list', '--scope', 'admin'], /--scope, --sqs, --name and --ttl go with token create/, 'USAGE'],
    [['token', 'list', '--ttl', '1d'], /--scope, --sqs, --name and --ttl go with token create/, 'USAGE'],
    [['token', 'revoke'], /missing the token id/, 'USAGE'],
    [['token', 'revoke', 'nope'], /is not a token id/, 'INVALID_ARGUMENT'],
  ];
  for (const [args, message, code] of cases) {
    const r = await spool(dir, [...args, '--store', store, '--json']);
    assert.equal(r.code, 2, `spool ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(JSON.parse(r.stdout).error.code, code);
  }
  const longest = await okJson<Created>(dir, ['token', 'create', '--scope', 'admin', '--ttl', `${maxDays}d`, '--store', store]);
  assert.equal(longest.expiresAt, longest.createdAt + LIMITS.tokenTtlMs.max, 'the limit itself is allowed');
  const missing = await spool(dir, ['token', 'list', '--store', join(dir, 'nowhere')]);
  assert.equal(missing.code, 5, missing.stderr);
});

test('a broker in auto mode enforces a token created by the CLI, and forgets a revoked one', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'spool.db');
  const broker = await Spool.open({ store, maintenance: false });
  // cacheMs 0: the broker asks the store on every request, so the test need not wait out the cache.
  const app = buildHttpApi(broker, { auth: new Authenticator(broker.store, { cacheMs: 0 }) });
  t.after(async () => {
    await app.close();
    await broker.close();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/queues/orders.eu/jobs`;
  const add = (token?: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: '{"payload":1}' }).then((r) => r.status);

  assert.equal(await add(), 201, 'open while the store has no token');
  const publisher = await okJson<Created>(dir, ['token', 'create', '--scope', 'publish:orders.*', '--store', store]);
  const consumer = await okJson<Created>(dir, ['token', 'create', '--scope', 'consume:orders.*', '--store', store]);
  assert.equal(await add(), 401);
  assert.equal(await add(publisher.token), 201);
  assert.equal(await add(consumer.token), 403);
  await ok(dir, ['token', 'revoke', publisher.id, '--store', store]);
  assert.equal(await add(publisher.token), 401);
});

/** The two stores a broker runs on here: a SQLite data directory, and a fresh schema of the test PostgreSQL. */
const STORES: { name: string; make: (dir: string) => { args: string[]; open: () => Promise<Spool> } }[] = [
  {
    name: 'SQLite',
    make: (dir) => {
      const store = join(dir, 'data');
      return { args: ['--store', store], open: () => Spool.open({ store, maintenance: false }) };
    },
  },
  {
    name: 'PostgreSQL',
    make: () => {
      const schema = uniqueSchema('tok');
      return { args: ['--store', testPgUrl(), '--schema', schema], open: () => Spool.open({ store: testPgUrl(), schema, maintenance: false, notify: false }) };
    },
  },
];

/** An add over HTTP: its status and error body. */
async function httpAdd(broker: BrokerChild, token?: string): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const res = await fetch(`${broker.url}/v1/queues/orders.eu/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: '{"payload":1}',
  });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
}

/** A WebSocket `hello` (with the token, if any): `welcome`, or the refusal and the close code that follows it. */
async function wsHello(broker: BrokerChild, token?: string): Promise<{ op: string; code?: string; message?: string; close?: number }> {
  const raw = await RawWs.open(broker.wsUrl, { hello: false });
  raw.send({ op: 'hello', v: 1, ...(token === undefined ? {} : { token }) });
  const reply = await raw.next((f) => f.op === 'welcome' || f.op === 'error');
  if (reply.op === 'welcome') {
    await raw.close();
    return { op: 'welcome' };
  }
  return { op: reply.op, code: reply.error.code, message: reply.error.message, close: (await raw.closed).code };
}

async function serve(t: TestContext, args: readonly string[], extra: readonly string[] = []): Promise<BrokerChild> {
  // startBroker adds --store from its argument: the rest of the store arguments (the schema) go with the extra ones.
  const [, store, ...rest] = args;
  return startBroker(t, store!, 0, [...rest, ...extra]);
}

for (const { name, make } of STORES) {
  describe(`a real broker (spool serve) on ${name}`, () => {
    test('revoking the last token keeps a broker in auto mode closed (HTTP 401, hello refused), also after a restart; --auth off opens it', async (t) => {
      const dir = tempDir(t);
      const { args } = make(dir);
      await ok(dir, ['migrate', ...args, '--create']);
      // tokenCacheMs 0: the broker asks the store on every request, so nothing here waits out a cache.
      let broker = await serve(t, args, ['--set', 'tokenCacheMs=0']);
      assert.equal((await httpAdd(broker)).status, 201, 'open: the store never had a token');
      assert.equal((await wsHello(broker)).op, 'welcome');
      const created = await okJson<Created>(dir, ['token', 'create', '--scope', 'admin', ...args]);
      assert.equal((await httpAdd(broker)).status, 401);
      assert.equal((await httpAdd(broker, created.token)).status, 201);
      assert.equal((await wsHello(broker, created.token)).op, 'welcome');

      const revoked = await spool(dir, ['token', 'revoke', created.id, ...args]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stderr, /that was the last token: brokers in auto mode stay closed/);
      assert.deepEqual((await okJson<Listed[]>(dir, ['token', 'list', ...args])), []);
      const closed = async (b: BrokerChild, why: string) => {
        const none = await httpAdd(b);
        assert.equal(none.status, 401, why);
        assert.match(none.body.message!, /no API token was sent/, why);
        assert.equal((await httpAdd(b, created.token)).status, 401, `${why}: the revoked token`);
        const hello = await wsHello(b);
        assert.deepEqual([hello.op, hello.code, hello.close], ['error', 'UNAUTHORIZED', CLOSE.unauthorized], why);
        assert.equal((await wsHello(b, created.token)).code, 'UNAUTHORIZED', `${why}: the revoked token in hello`);
      };
      await closed(broker, 'the running broker');
      await stopBroker(broker);
      broker = await serve(t, args);
      await closed(broker, 'a broker started after the revoke, with nothing cached');
      await stopBroker(broker);

      broker = await serve(t, args, ['--auth', 'off']);
      assert.equal((await httpAdd(broker)).status, 201, '--auth off: no token needed');
      assert.equal((await wsHello(broker)).op, 'welcome');
      await stopBroker(broker);
    });
  });
}

test('a real broker refuses an expired token with 401 (HTTP and hello), saying when it expired and to make a new one', async (t) => {
  const dir = tempDir(t);
  const { args, open } = make0(dir);
  // A token made 2 days ago with a TTL of 1 day: expired a day ago, whatever the clock says now.
  const expiredAt = Date.now() - DAY;
  const local = await open();
  const expired = await createToken(local.store, { name: 'old', scopes: ['admin'], ttlMs: DAY }, new ManualClock(expiredAt - DAY));
  await local.close();
  const fresh = await okJson<Created>(dir, ['token', 'create', '--scope', 'admin', '--ttl', '1d', ...args]);
  const broker = await serve(t, args);

  const http = await httpAdd(broker, expired.token);
  assert.equal(http.status, 401);
  assert.equal(http.body.code, 'UNAUTHORIZED');
  const said = new RegExp(`^the API token ${expired.id} expired at ${new Date(expiredAt).toISOString().replace(/\./g, '\\.')} \\(create a new one to replace it\\)`);
  assert.match(http.body.message!, said);
  assert.match(http.body.message!, /spool token create/);
  const hello = await wsHello(broker, expired.token);
  assert.deepEqual([hello.op, hello.code, hello.close], ['error', 'UNAUTHORIZED', CLOSE.unauthorized]);
  assert.match(hello.message!, said);
  assert.equal((await httpAdd(broker, fresh.token)).status, 201, 'a token within its TTL is accepted');

  const listed = await ok(dir, ['token', 'list', ...args]);
  assert.match(listed, new RegExp(`^${expired.id} +old +admin +\\S+ \\S+ +\\S+ \\S+ \\(expired\\) +never$`, 'm'));
  await stopBroker(broker);
});

test('token list --json shows when a broker last accepted each token (HTTP and hello); an unused one shows null', async (t) => {
  const dir = tempDir(t);
  const { args } = make0(dir);
  const used = await okJson<Created>(dir, ['token', 'create', '--scope', 'admin', '--name', 'used', ...args]);
  const viaHello = await okJson<Created>(dir, ['token', 'create', '--scope', 'admin', '--name', 'hello', ...args]);
  const unused = await okJson<Created>(dir, ['token', 'create', '--scope', 'admin', '--name', 'unused', ...args]);
  const broker = await serve(t, args);
  const before = Date.now();
  // The first use of a token on a broker is written before the response goes out.
  assert.equal((await httpAdd(broker, used.token)).status, 201);
  assert.equal((await wsHello(broker, viaHello.token)).op, 'welcome');
  const after = Date.now();
  const listed = new Map((await okJson<Listed[]>(dir, ['token', 'list', ...args])).map((r) => [r.id, r]));
  for (const token of [used, viaHello]) {
    const at = listed.get(token.id)!.lastUsedAt;
    assert.ok(at !== null && at >= before && at <= after, `${token.name}: lastUsedAt ${at} within [${before}, ${after}]`);
  }
  assert.equal(listed.get(unused.id)!.lastUsedAt, null);
  assert.match(await ok(dir, ['token', 'list', ...args]), /^[0-9a-f]{12} +used +admin +\S+ \S+ +never +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
  await stopBroker(broker);
});

/** The SQLite store of the tests that need only one. */
function make0(dir: string) {
  return STORES[0]!.make(dir);
}
