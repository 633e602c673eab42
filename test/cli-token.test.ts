/**
 * End-to-end tests of `spool token`: the real CLI as a child process on a real SQLite
 * store, and a broker in the test process that enforces what the CLI created.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { Spool } from '../src/index.ts';
import { buildHttpApi } from '../src/server/app.ts';
import { Authenticator } from '../src/server/auth/authenticator.ts';
import { ok, okJson, spool, tempDir } from './support/cli.ts';

interface Created {
  id: string;
  name: string;
  token: string;
  scopes: string[];
  createdAt: number;
}

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
  assert.match(text.stderr, /cannot show it again/);
  assert.match(text.stderr, /this is the first token/);

  const created = await okJson<Created>(dir, ['token', 'create', '--scope', 'admin', '--store', store]);
  assert.deepEqual([created.name, created.scopes], ['', ['admin']]);
  assert.match(created.token, /^spool_[0-9a-f]{12}_/);

  const listed = await ok(dir, ['token', 'list', '--store', store]);
  assert.match(listed, /^ID +NAME +SCOPES +CREATED$/m);
  assert.match(listed, new RegExp(`^${id} +ci +publish:orders\\.\\* consume:orders\\.\\* +\\d{4}-`, 'm'));
  assert.match(listed, new RegExp(`^${created.id} +- +admin `, 'm'));
  const json = await okJson<object[]>(dir, ['token', 'list', '--store', store]);
  assert.deepEqual(json.map((r) => Object.keys(r).sort()), [['createdAt', 'id', 'name', 'scopes'], ['createdAt', 'id', 'name', 'scopes']]);
  for (const secret of [token, created.token]) {
    const hash = createHash('sha256').update(secret).digest('hex');
    for (const out of [listed, JSON.stringify(json)]) {
      assert.ok(!out.includes(secret.slice(19)) && !out.includes(hash), 'neither a token nor its hash is ever printed again');
    }
  }

  assert.equal((await ok(dir, ['token', 'revoke', id, '--store', store])).trim(), `revoked ${id}`);
  assert.deepEqual(await okJson(dir, ['token', 'revoke', created.token, '--store', store]), { id: created.id, revoked: true }, 'a pasted token is revoked by its id');
  const again = await spool(dir, ['token', 'revoke', id, '--store', store, '--json']);
  assert.equal(again.code, 3);
  assert.equal(JSON.parse(again.stdout).error.code, 'TOKEN_NOT_FOUND');
  assert.match(await ok(dir, ['token', 'list', '--store', store]), /^no tokens/);
});

test('token usage errors exit 2; reading a missing store exits 5', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'data');
  const cases: [string[], RegExp, string][] = [
    [['token'], /missing argument/, 'USAGE'],
    [['token', 'frob'], /unknown token action "frob"/, 'USAGE'],
    [['token', 'create'], /at least one --scope/, 'USAGE'],
    [['token', 'create', '--scope', 'write:orders'], /scope "write:orders" is not valid/, 'INVALID_ARGUMENT'],
    [['token', 'create', '--scope', 'publish:bad name'], /queue pattern must be/, 'INVALID_ARGUMENT'],
    [['token', 'list', '--scope', 'admin'], /--scope and --name go with token create/, 'USAGE'],
    [['token', 'revoke'], /missing the token id/, 'USAGE'],
    [['token', 'revoke', 'nope'], /is not a token id/, 'INVALID_ARGUMENT'],
  ];
  for (const [args, message, code] of cases) {
    const r = await spool(dir, [...args, '--store', store, '--json']);
    assert.equal(r.code, 2, `spool ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(JSON.parse(r.stdout).error.code, code);
  }
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
