import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { createToken, tokenIdOf, verifyToken } from './tokens.ts';

const dir = mkdtempSync(join(tmpdir(), 'spool-tokens-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshStore = () => new SqliteStore({ path: join(dir, `t${n++}.db`), durability: 'no-fsync' });

describe('API tokens', () => {
  it('creates spool_<id>_<secret>, stores only its SHA-256, and verifies it', async () => {
    const store = freshStore();
    const clock = new ManualClock();
    const created = await createToken(store, { name: 'ci', scopes: ['publish:orders.*', 'consume:orders.*'] }, clock);
    assert.match(created.token, /^spool_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.match(created.id, /^[0-9a-f]{12}$/);
    assert.equal(tokenIdOf(created.token), created.id);
    assert.deepEqual({ ...created, token: undefined }, { id: created.id, name: 'ci', token: undefined, scopes: ['publish:orders.*', 'consume:orders.*'], createdAt: clock.now() });
    const row = await store.tokenGet(created.id);
    assert.equal(row!.hash, createHash('sha256').update(created.token).digest('hex'));
    assert.ok(!JSON.stringify(await store.tokensList()).includes(created.token.slice(19)), 'the secret is stored nowhere');
    assert.deepEqual(await verifyToken(store, created.token), row);
    await store.close();
  });

  it('refuses a wrong secret, an unknown id, a malformed text and a revoked token', async () => {
    const store = freshStore();
    const { id, token } = await createToken(store, { scopes: ['admin'] });
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    assert.equal(await verifyToken(store, token.slice(0, -1) + last), null, 'same id, wrong secret');
    assert.equal(await verifyToken(store, token.replace(id, '0'.repeat(12))), null, 'unknown id');
    for (const text of ['', 'spool_', token + 'x', token.toUpperCase(), `Bearer ${token}`]) assert.equal(await verifyToken(store, text), null, text);
    assert.equal(await store.tokensDelete([id]), 1);
    assert.equal(await verifyToken(store, token), null, 'revoked');
    await store.close();
  });

  it('validates scopes and the name; keeps each scope once, in order', async () => {
    const store = freshStore();
    await assert.rejects(createToken(store, { scopes: [] }), /at least one scope/);
    await assert.rejects(createToken(store, { scopes: ['publish:orders.*', 'write:x'] }), InvalidArgumentError);
    await assert.rejects(createToken(store, { name: 'x'.repeat(200), scopes: ['admin'] }), /token name must be a string of at most 128/);
    assert.equal(await store.tokensExist(), false, 'nothing was saved by the refused calls');
    const t = await createToken(store, { scopes: ['consume:b', 'admin', 'consume:b'] });
    assert.deepEqual(t.scopes, ['consume:b', 'admin']);
    assert.equal(t.name, '');
    await store.close();
  });

  it('every token is different', async () => {
    const store = freshStore();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => createToken(store, { scopes: ['admin'] })));
    assert.equal(new Set(tokens.map((t) => t.id)).size, 50);
    assert.equal(new Set(tokens.map((t) => t.token)).size, 50);
    assert.equal((await store.tokensList()).length, 50);
    await store.close();
  });
});
