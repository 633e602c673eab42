import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import postgres from 'postgres';
import { ManualClock } from '../../core/clock.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { LIMITS } from '../../core/limits.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { MIGRATIONS } from '../../store/sqlite/migrations.ts';
import { PG_MIGRATIONS } from '../../store/postgres/migrations.ts';
import { openPostgresStore } from '../../store/postgres/postgres-store.ts';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
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
    assert.deepEqual({ ...created, token: undefined }, { id: created.id, name: 'ci', token: undefined, scopes: ['publish:orders.*', 'consume:orders.*'], createdAt: clock.now(), expiresAt: null });
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

  it('a TTL sets the expiry; it is bounded by tokenTtlMs, and 0 means none', async () => {
    const store = freshStore();
    const clock = new ManualClock();
    const month = 30 * 86_400_000;
    const t = await createToken(store, { scopes: ['admin'], ttlMs: month }, clock);
    assert.equal(t.expiresAt, clock.now() + month);
    assert.equal((await store.tokenGet(t.id))!.expiresAt, clock.now() + month);
    assert.equal((await createToken(store, { scopes: ['admin'], ttlMs: 0 })).expiresAt, null);
    await assert.rejects(createToken(store, { scopes: ['admin'], ttlMs: LIMITS.tokenTtlMs.max + 1 }), new RegExp(`ttlMs must be at most ${LIMITS.tokenTtlMs.max}`));
    await assert.rejects(createToken(store, { scopes: ['admin'], ttlMs: -1 }), /ttlMs must be at least 0/);
    await assert.rejects(createToken(store, { scopes: ['admin'], ttlMs: 1.5 }), /ttlMs must be an integer/);
    assert.equal((await store.tokensList()).length, 2, 'nothing was saved by the refused calls');
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

describe('the migration that adds expiry, last use and the tokens-enabled record', () => {
  // The version before it on each driver; a store written then may already hold tokens.
  const SQLITE_BEFORE = 3;
  const PG_BEFORE = 2;
  const insertOld = `INSERT INTO tokens (id, name, hash, scopes, created_at) VALUES ('aaaaaaaaaaaa', 'old', '${'f'.repeat(64)}', '["admin"]', 1000)`;

  it('SQLite: a store that held tokens has had them (auto mode stays enforced); one that held none has not', async () => {
    for (const withToken of [true, false]) {
      const path = join(dir, `old${n++}.db`);
      const db = new DatabaseSync(path);
      for (const m of MIGRATIONS.filter((m) => m.version <= SQLITE_BEFORE)) db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${SQLITE_BEFORE}`);
      if (withToken) db.exec(insertOld);
      db.close();
      const store = new SqliteStore({ path });
      assert.equal(await store.tokensEnabled(), withToken);
      if (withToken) {
        assert.deepEqual(await store.tokenGet('aaaaaaaaaaaa'), { id: 'aaaaaaaaaaaa', name: 'old', hash: 'f'.repeat(64), scopes: ['admin'], createdAt: 1000, expiresAt: null, lastUsedAt: null });
        await store.tokensDelete(['aaaaaaaaaaaa']);
        assert.equal(await store.tokensEnabled(), true);
      }
      await store.close();
    }
  });

  it('PostgreSQL: the same', async () => {
    const sql = postgres(testPgUrl(), { max: 1, onnotice: () => {} });
    try {
      for (const withToken of [true, false]) {
        const schema = uniqueSchema();
        await sql.unsafe(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.schema_version (version integer NOT NULL)`);
        for (const m of PG_MIGRATIONS.filter((m) => m.version <= PG_BEFORE)) {
          await sql.unsafe(m.sql(schema));
          await sql.unsafe(`INSERT INTO ${schema}.schema_version (version) VALUES (${m.version})`);
        }
        if (withToken) {
          await sql.unsafe(`INSERT INTO ${schema}.tokens (id, name, hash, scopes, created_at) VALUES ('aaaaaaaaaaaa', 'old', '${'f'.repeat(64)}', ARRAY['admin'], 1000)`);
        }
        const store = await openPostgresStore({ url: testPgUrl(), schema, notify: false });
        assert.equal(store.migratedFrom, PG_BEFORE);
        assert.equal(await store.tokensEnabled(), withToken);
        if (withToken) {
          assert.deepEqual(await store.tokenGet('aaaaaaaaaaaa'), { id: 'aaaaaaaaaaaa', name: 'old', hash: 'f'.repeat(64), scopes: ['admin'], createdAt: 1000, expiresAt: null, lastUsedAt: null });
        }
        await store.close();
      }
    } finally {
      await sql.end();
    }
  });
});
