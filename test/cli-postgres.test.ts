import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import postgres from 'postgres';
import { StoreUnavailableError } from '../src/core/errors.ts';
import { Spool } from '../src/index.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { PG_LATEST_SCHEMA_VERSION } from '../src/store/postgres/migrations.ts';
import { spool as run, tempDir, writeHandler, type Result } from './support/cli.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const sql = postgres(testPgUrl(), { max: 1, onnotice: () => {} });
after(() => sql.end());

const cwd = tempDir({ after } as never);
const spool = (args: string[], env?: Record<string, string>): Promise<Result> => run(cwd, args, env ? { env } : {});

/** The test server's URL with one part changed. */
function urlWith(change: (url: URL) => void): string {
  const url = new URL(testPgUrl());
  change(url);
  return url.href;
}

const WRONG_PASSWORD = 'not-the-password-4711';
const host = new URL(testPgUrl()).hostname.replace(/\./g, '\\.');
const port = new URL(testPgUrl()).port;
const JOB = '01900000-0000-7000-8000-000000000001';

/** Ways to get the store wrong, each with what the one line must say. */
const BROKEN: { what: string; store: string; says: RegExp }[] = [
  {
    what: 'a wrong password',
    store: urlWith((u) => (u.password = WRONG_PASSWORD)),
    says: new RegExp(`^cannot open the PostgreSQL store at postgres://${host}:${port}/postgres \\(schema spool\\): PostgreSQL refused the password of user "postgres" \\(28P01\\)\\. Check the user name and password in the store URL\\.$`),
  },
  {
    what: 'a missing database',
    store: urlWith((u) => (u.pathname = '/no_such_db')),
    says: new RegExp(`there is no database "no_such_db" on ${host}:${port} \\(3D000\\)\\. Check the database name in the store URL, or create it \\(createdb no_such_db\\)\\.$`),
  },
  {
    what: 'an unreachable port',
    store: urlWith((u) => (u.port = '1')),
    says: new RegExp(`nothing accepts connections on ${host}:1 \\(ECONNREFUSED\\)\\. Check the host and port in the store URL, and that PostgreSQL is running\\.$`),
  },
  {
    what: 'a URL that does not parse',
    store: `postgres://postgres:${WRONG_PASSWORD}@[::1/postgres`,
    says: /^the store is not a valid PostgreSQL URL \(postgres:\/\/postgres:\*\*\*@\[::1\/postgres\); write it as postgres:\/\/user:password@host:5432\/database/,
  },
  {
    what: 'a postgres URL without its //',
    store: 'postgres:/db',
    says: /^the store is not a valid PostgreSQL URL \(postgres:\/db\)/,
  },
  {
    what: 'a URL of another scheme',
    store: `mysql://root:${WRONG_PASSWORD}@localhost/app`,
    says: /^the store URL scheme "mysql:" is not one Spool knows; a store is postgres:\/\/user:password@host:5432\/database, a data directory/,
  },
];

/** Asserts `r` ended as a store error should: exit 5, one line on stderr, no stack, the code in --json, no password. */
function assertStoreError(r: Result, says: RegExp, label: string): void {
  assert.equal(r.code, 5, `${label}: exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${label}: one line, no stack:\n${r.stderr}`);
  assert.match(lines[0]!, /^spool: /, label);
  assert.match(lines[0]!.slice('spool: '.length), says, label);
  assert.ok(!r.stderr.includes(WRONG_PASSWORD), `${label}: the password is never printed`);
  const { error } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { error: { code: string; message: string } };
  assert.equal(error.code, 'STORE_UNAVAILABLE', label);
  assert.match(error.message, says, label);
}

/** Runs `tasks` at most `n` at a time: each is a whole `spool` process. */
async function inBatches<T>(tasks: (() => Promise<T>)[], n = 2): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < tasks.length; i += n) out.push(...(await Promise.all(tasks.slice(i, i + n).map((task) => task()))));
  return out;
}

describe('spool CLI on PostgreSQL', () => {
  it('migrate brings a new schema up to date, then add and stats use it', async () => {
    const schema = uniqueSchema('cli');
    const first = await spool(['migrate', '--store', testPgUrl(), '--schema', schema, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual({ ...JSON.parse(first.stdout), store: undefined }, { store: undefined, schema, from: 0, to: PG_LATEST_SCHEMA_VERSION });
    const again = await spool(['migrate', '--store', testPgUrl(), '--schema', schema]);
    assert.match(again.stdout, new RegExp(`schema ${schema} at version ${PG_LATEST_SCHEMA_VERSION} \\(was ${PG_LATEST_SCHEMA_VERSION}`));
    assert.equal((await spool(['add', 'emails', '{"to":"a@example.com"}', '--store', testPgUrl(), '--schema', schema])).code, 0);
    const stats = await spool(['stats', 'emails', '--store', testPgUrl(), '--json', '--schema', schema]);
    assert.equal(JSON.parse(stats.stdout)[0].counts.ready, 1);
  });

  it('migrate refuses a schema written by a newer Spool with exit code 5', async () => {
    const schema = uniqueSchema('cli');
    const store = await openPostgresStore({ url: testPgUrl(), schema });
    await store.query(`INSERT INTO ${schema}.schema_version (version) VALUES (${PG_LATEST_SCHEMA_VERSION + 1})`);
    await store.close();
    const r = await spool(['migrate', '--store', testPgUrl(), '--schema', schema]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /newer Spool/);
  });
});

describe('store errors end cleanly', () => {
  it('a wrong password, a missing database, an unreachable port or a bad URL: every command says what and what to do in one line, exit 5, no stack', async (t) => {
    const dir = tempDir(t);
    const handler = join(dir, writeHandler(dir));
    const every: string[][] = [
      ['stats'], ['stats', 'q'], ['jobs', 'q'], ['job', JOB], ['add', 'q', '1'], ['cancel', JOB], ['retry', JOB],
      ['token', 'list'], ['token', 'create', '--scope', 'admin'], ['token', 'revoke', '0123456789ab'], ['migrate'],
      ['serve', '--port', '0'], ['work', 'q', handler],
    ];
    // One command of each way in: a read (checks the schema first), a write (opens and migrates), migrate (opens the store itself).
    const some: string[][] = [['stats'], ['add', 'q', '1'], ['migrate']];
    const tasks = BROKEN.flatMap(({ what, store, says }, i) =>
      (i === 0 ? every : some).map((args) => async () => assertStoreError(await run(dir, [...args, '--store', store, '--json']), says, `${what}: spool ${args[0]} ${args[1] ?? ''}`)),
    );
    await inBatches(tasks);
  });

  it('Spool.open says the same with a StoreUnavailableError', async () => {
    for (const { what, store, says } of BROKEN) {
      await assert.rejects(Spool.open({ store, maintenance: false, log: () => {} }), (err: Error) => {
        assert.ok(err instanceof StoreUnavailableError, `${what}: ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.code, 'STORE_UNAVAILABLE');
        assert.match(err.message, says, what);
        assert.ok(!err.message.includes(WRONG_PASSWORD), `${what}: no password in the message`);
        return true;
      });
    }
  });

  it('commands that read or change what exists, on a mistyped --schema (or SPOOL_SCHEMA), exit 5 and create no schema', async () => {
    const schema = uniqueSchema('typo');
    const says = new RegExp(`^no Spool schema named "${schema}" in database "postgres" on ${host}:${port}; check --schema \\(or SPOOL_SCHEMA\\), or run spool migrate to create it$`);
    const commands: string[][] = [
      ['stats'], ['stats', 'q'], ['jobs', 'q'], ['job', JOB], ['cancel', JOB], ['retry', JOB], ['token', 'list'], ['token', 'revoke', '0123456789ab'],
    ];
    await inBatches([
      ...commands.map((args) => async () => assertStoreError(await spool([...args, '--store', testPgUrl(), '--schema', schema, '--json']), says, `spool ${args.join(' ')}`)),
      async () => assertStoreError(await spool(['stats', '--store', testPgUrl(), '--json'], { SPOOL_SCHEMA: schema }), says, 'SPOOL_SCHEMA'),
    ]);
    const found = await sql`SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = ${schema}`;
    assert.equal(found.length, 0, 'no schema was created');
  });

  it('migrate on a SQLite store that does not exist refuses (exit 5) and creates nothing; --create makes it', async (t) => {
    const dir = tempDir(t);
    for (const store of [join(dir, 'typo.db'), join(dir, 'typo-dir')]) {
      const file = store.endsWith('.db') ? store : join(store, 'spool.db');
      const says = new RegExp(`^no Spool store at ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; check --store \\(or SPOOL_STORE\\), or pass --create to make a new store there$`);
      assertStoreError(await run(dir, ['migrate', '--store', store, '--json']), says, store);
      assert.equal(existsSync(store), false, 'nothing was created');
      const created = await run(dir, ['migrate', '--store', store, '--create']);
      assert.equal(created.code, 0, created.stderr);
      assert.ok(existsSync(file));
      const again = await run(dir, ['migrate', '--store', store, '--json']);
      assert.equal(again.code, 0, 'an existing store needs no --create');
      assert.deepEqual(JSON.parse(again.stdout), { store: file });
    }
  });
});
