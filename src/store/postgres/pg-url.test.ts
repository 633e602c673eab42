/**
 * Multi-host store URLs (libpq's form): parsing, and picking a host for the pool and for
 * single connections. The failover itself (a standby promoted under load) is in
 * test/postgres-failover.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreUnavailableError } from '../../core/errors.ts';
import { Spool } from '../../index.ts';
import { freePort } from '../../../test/support/ports.ts';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { connectClient, PgPool } from './pg-client.ts';
import { canParsePgUrl, parsePgUrl } from './pg-url.ts';

describe('parsePgUrl', () => {
  it('gives one single-host URL per host, in order, without target_session_attrs', () => {
    const parsed = parsePgUrl('postgres://app:p%40ss@10.0.0.1:5432,db2,[::1]:6000/jobs?target_session_attrs=read-write&sslmode=disable');
    assert.deepEqual(parsed, {
      target: 'read-write',
      hosts: [
        { host: '10.0.0.1', port: '5432', url: 'postgres://app:p%40ss@10.0.0.1:5432/jobs?sslmode=disable' },
        { host: 'db2', port: '5432', url: 'postgres://app:p%40ss@db2/jobs?sslmode=disable' },
        { host: '[::1]', port: '6000', url: 'postgres://app:p%40ss@[::1]:6000/jobs?sslmode=disable' },
      ],
    });
  });

  it('defaults to read-write with several hosts and to any with one, as before', () => {
    assert.equal((parsePgUrl('postgres://a@h1,h2/d') as { target: string }).target, 'read-write');
    assert.equal((parsePgUrl('postgres://a@h1/d') as { target: string }).target, 'any');
    assert.equal((parsePgUrl('postgresql://a@h1:1,h2:2/d?target_session_attrs=any') as { target: string }).target, 'any');
    assert.equal((parsePgUrl('postgres://a@h1,h2/d?target_session_attrs=primary') as { target: string }).target, 'primary');
  });

  it('refuses what it cannot use, naming no password', () => {
    for (const bad of ['postgres://u:secret@h1:x,h2/d', 'postgres://u:secret@h1,h2:99999/d', 'mysql://u:secret@h/d', 'postgres://u:secret@h1,h2/d?target_session_attrs=standby']) {
      assert.equal(canParsePgUrl(bad), false, bad);
      const reason = parsePgUrl(bad);
      assert.equal(typeof reason, 'string', bad);
      assert.doesNotMatch(reason as string, /secret/);
    }
  });

  it('openPostgresStore refuses an unsupported target_session_attrs', async () => {
    await assert.rejects(Spool.open({ store: 'postgres://u:secret@127.0.0.1:1,127.0.0.1:2/d?target_session_attrs=read-only' }), (err: Error) => {
      assert.match(err.message, /target_session_attrs=read-only is not supported/);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
  });
});

/** The test server's URL with a host where nothing listens written before it. */
async function withDeadFirstHost(): Promise<{ url: string; dead: number }> {
  const dead = await freePort();
  const u = new URL(testPgUrl());
  return { url: testPgUrl().replace(`@${u.host}`, `@127.0.0.1:${dead},${u.host}`), dead };
}

describe('several hosts', () => {
  it('a connection skips a host that is down and keeps the first that accepts writes', async () => {
    const { url } = await withDeadFirstHost();
    const client = await connectClient(url, { connectionTimeoutMillis: 5000 });
    try {
      const { rows } = await client.query('SELECT pg_is_in_recovery() AS standby');
      assert.equal(rows[0].standby, false);
    } finally {
      await client.end();
    }
  });

  it('the pool and a whole Spool work through such a URL', async () => {
    const { url } = await withDeadFirstHost();
    const pool = new PgPool(url, 2);
    try {
      assert.equal((await pool.q('SELECT 1 AS one'))[0]!.one, 1);
      assert.equal(await pool.transaction(async (tx) => (await tx.q('SELECT 2 AS two'))[0]!.two), 2);
    } finally {
      await pool.end();
    }
    const spool = await Spool.open({ store: url, schema: uniqueSchema('multihost'), maintenance: false });
    try {
      const job = await spool.queue('q').add({ n: 1 });
      assert.equal((await spool.store.jobsGet([job.id]))[0]?.id, job.id);
    } finally {
      await spool.close();
    }
  });

  it('when no host answers, the open fails with one line naming every host and never the password', async () => {
    const [a, b] = [await freePort(), await freePort()];
    await assert.rejects(Spool.open({ store: `postgres://u:secret@127.0.0.1:${a},127.0.0.1:${b}/d` }), (err: Error) => {
      assert.ok(err instanceof StoreUnavailableError, String(err));
      assert.match(err.message, new RegExp(`^cannot open the PostgreSQL store at postgres://127\\.0\\.0\\.1:${a},127\\.0\\.0\\.1:${b}/d \\(schema spool\\): nothing accepts connections on 127\\.0\\.0\\.1:${a},127\\.0\\.0\\.1:${b} \\(ECONNREFUSED\\)`));
      assert.doesNotMatch(err.message, /secret|\n/);
      return true;
    });
  });
});
