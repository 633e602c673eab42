/**
 * The one-line messages of a failed PostgreSQL open, for the failures the end-to-end tests
 * (test/cli-postgres.test.ts) cannot cause on the test server: timeouts, TLS, privileges,
 * a server starting up, an unknown role.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, SchemaTooNewError, StoreUnavailableError } from '../../core/errors.ts';
import { describePgTarget, pgOpenError, translatePgError } from './pg-errors.ts';

const target = { url: 'postgres://app:s3cret%40x@db.example:6543/jobs', schema: 'spool' };
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });
const opened = (err: unknown): StoreUnavailableError => {
  const out = pgOpenError(err, target);
  assert.ok(out instanceof StoreUnavailableError, String(out));
  assert.ok(!out.message.includes('s3cret'), 'never the password');
  assert.match(out.message, /^cannot open the PostgreSQL store at postgres:\/\/db\.example:6543\/jobs \(schema spool\): /);
  assert.doesNotMatch(out.message, /\n/);
  return out;
};

describe('pgOpenError', () => {
  it('says what went wrong and what to do, for each way an open fails', () => {
    const cases: [unknown, RegExp][] = [
      [pgError('28P01', 'password authentication failed for user "app"'), /refused the password of user "app" \(28P01\)\. Check the user name and password in the store URL\.$/],
      [pgError('28000', 'role "app" does not exist'), /refused the login of user "app" \(28000: role "app" does not exist\)\. Check the user name in the store URL, and that the server lets it connect \(pg_hba\.conf\)\.$/],
      [pgError('3D000', 'database "jobs" does not exist'), /there is no database "jobs" on db\.example:6543 \(3D000\)\. Check the database name in the store URL, or create it \(createdb jobs\)\.$/],
      [pgError('ECONNREFUSED', 'connect ECONNREFUSED'), /nothing accepts connections on db\.example:6543 \(ECONNREFUSED\)/],
      [pgError('ENOTFOUND', 'getaddrinfo ENOTFOUND db.example'), /the host "db\.example" cannot be found \(ENOTFOUND\)\. Check the host in the store URL\.$/],
      [new Error('timeout exceeded when trying to connect'), /no answer from db\.example:6543 in time \(timeout exceeded when trying to connect\)\. Check the host and port in the store URL, and any firewall between\.$/],
      [pgError('42501', 'permission denied for database jobs'), /user "app" may not create or use schema "spool" \(42501: permission denied for database jobs\)\. Run spool migrate as a user who may, or grant it/],
      [pgError('57P03', 'the database system is starting up'), /cannot take this connection now \(57P03: the database system is starting up\)\. Retry in a moment\.$/],
      [new Error('The server does not support SSL connections'), /the TLS connection to db\.example:6543 failed \(The server does not support SSL connections\)\. Check sslmode/],
      [pgError('NO_WRITABLE_HOST', 'no host accepts writes: 10.0.0.1:5432: ECONNREFUSED connect ECONNREFUSED 10.0.0.1:5432; 10.0.0.2:5432 accepts no writes (a standby, in recovery)'), /no host accepts writes: .* \(NO_WRITABLE_HOST\)\. Spool needs a primary: promote a standby, or check the hosts and target_session_attrs in the store URL\.$/],
      [pgError('XX000', 'something odd.'), /: something odd \(XX000\)\. Check the store URL and the server\.$/],
    ];
    for (const [err, says] of cases) assert.match(opened(err).message, says);
  });

  it('rewrites what translatePgError made of a connection failure, keeping the client error as the cause', () => {
    const raw = pgError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:6543');
    const translated = translatePgError(raw, 'migrate the schema');
    assert.ok(translated instanceof StoreUnavailableError);
    const out = opened(translated);
    assert.match(out.message, /nothing accepts connections/);
    assert.equal(out.cause, raw);
  });

  it('passes through what is not about reaching the database: a newer schema, a bad option, a bug', () => {
    const tooNew = new SchemaTooNewError('PostgreSQL schema "spool"', 9, 3);
    assert.equal(pgOpenError(tooNew, target), tooNew);
    const bad = new InvalidArgumentError('schema', 'bad');
    assert.equal(pgOpenError(bad, target), bad);
    const bug = new TypeError('x is undefined');
    assert.equal(pgOpenError(bug, target), bug);
    const syntax = pgError('42601', 'syntax error at or near "CREAT"');
    assert.equal(pgOpenError(syntax, target), syntax, 'a migration PostgreSQL cannot run is a bug, with its stack');
    const plain = new StoreUnavailableError('cannot switch to WAL');
    assert.equal(pgOpenError(plain, target), plain);
  });
});

describe('translatePgError', () => {
  it('a refused login or a missing database after the open is StoreUnavailableError saying to check the URL', () => {
    const login = translatePgError(pgError('28P01', 'password authentication failed for user "app"'), 'read jobs');
    assert.ok(login instanceof StoreUnavailableError);
    assert.match(login.message, /^cannot read jobs: PostgreSQL refused the login \(28P01: .*\)\. Check the user name and password in the store URL\./);
    const gone = translatePgError(pgError('3D000', 'database "jobs" does not exist'), 'read jobs');
    assert.ok(gone instanceof StoreUnavailableError);
    assert.match(gone.message, /^cannot read jobs: database "jobs" does not exist \(3D000\)\. Check the database name in the store URL\./);
  });

  it('a write refused by a read-only server (a standby) and no writable host are StoreUnavailableError: retry', () => {
    const ro = translatePgError(pgError('25006', 'cannot execute INSERT in a read-only transaction'), 'add jobs');
    assert.ok(ro instanceof StoreUnavailableError);
    assert.match(ro.message, /^cannot add jobs: the PostgreSQL server is read-only \(25006: /);
    const none = translatePgError(pgError('NO_WRITABLE_HOST', 'no host accepts writes: …'), 'add jobs');
    assert.ok(none instanceof StoreUnavailableError);
    assert.match(none.message, /unreachable or restarting \(NO_WRITABLE_HOST: no host accepts writes/);
  });

  it('says nothing was written only when the call never reached a server; a connection lost mid-call may have committed', () => {
    const refused = translatePgError(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), 'add jobs');
    assert.match((refused as Error).message, /retry the call\. Nothing from this call was written\.$/);
    for (const lost of [pgError('ECONNRESET', 'read ECONNRESET'), pgError('57P01', 'terminating connection due to administrator command'), pgError('', 'Connection terminated unexpectedly')]) {
      const err = translatePgError(lost, 'add jobs') as Error;
      assert.ok(err instanceof StoreUnavailableError, String(err));
      assert.match(err.message, /it may have taken effect: an add retried with the same idempotencyKey is stored once/);
      assert.doesNotMatch(err.message, /Nothing from this call was written/);
    }
  });
});

describe('describePgTarget', () => {
  it('host, port, database and user, never the password; defaults as libpq has them', () => {
    assert.deepEqual(describePgTarget(target), { host: 'db.example', port: '6543', at: 'db.example:6543', database: 'jobs', user: 'app', location: 'postgres://db.example:6543/jobs (schema spool)' });
    assert.deepEqual(describePgTarget({ url: 'postgres://bob@db', schema: 's' }), { host: 'db', port: '5432', at: 'db:5432', database: 'bob', user: 'bob', location: 'postgres://db:5432/bob (schema s)' });
    const multi = describePgTarget({ url: 'postgres://app:s3cret@10.0.0.1:5432,10.0.0.2:5433/jobs?target_session_attrs=read-write', schema: 's' });
    assert.deepEqual(multi, { host: '10.0.0.1', port: '5432', at: '10.0.0.1:5432,10.0.0.2:5433', database: 'jobs', user: 'app', location: 'postgres://10.0.0.1:5432,10.0.0.2:5433/jobs (schema s)' });
  });
});
