import { InvalidArgumentError, SpoolError, StoreUnavailableError } from '../../core/errors.ts';
import { NO_WRITABLE_HOST, parsePgUrl, READ_ONLY_HOST } from './pg-url.ts';

/** Connection-level failures: the database is down, restarting or unreachable. */
const CONNECTION_CODES = new Set([NO_WRITABLE_HOST, READ_ONLY_HOST, 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);
/** Failures before anything was sent: no server took the call, so nothing of it was written. */
const NEVER_SENT = new Set<string>(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'CONNECT_TIMEOUT', NO_WRITABLE_HOST, READ_ONLY_HOST]);
/** SQLSTATE classes meaning "not now": connection exceptions, shutdown, insufficient resources. */
const UNAVAILABLE_SQLSTATE = /^(08|57P0|53)/;
/** SQLSTATE 25006: a write on a read-only server (a standby after a failover, reached with target_session_attrs=any). */
const READ_ONLY_SQLSTATE = '25006';
/** SQLSTATE class 28: the server refused the login (28P01 wrong password, 28000 no such role or no pg_hba.conf entry). */
const LOGIN_SQLSTATE = /^28/;
/** SQLSTATE 28P01: the password is wrong. */
const WRONG_PASSWORD = '28P01';
/** The host name does not resolve. */
const HOST_UNKNOWN = new Set(['ENOTFOUND', 'EAI_AGAIN']);
/** Nothing answered in time. */
const TIMED_OUT = new Set(['ETIMEDOUT', 'CONNECT_TIMEOUT']);
/** SQLSTATE 3D000: the database named in the URL does not exist. */
const NO_DATABASE = '3D000';
/** SQLSTATE 57014: the statement was cancelled; with `statement_timeout` (only operator reads have one), it ran too long. */
const CANCELLED = '57014';
/** SQLSTATE 42501: insufficient privilege (at open: may not create the schema or its tables). */
const NO_PRIVILEGE = '42501';
/** node-postgres reports TLS trouble by message only (e.g. "The server does not support SSL connections"). */
const TLS_MESSAGE = /SSL|TLS|certificate/i;
/** node-postgres reports some connection failures by message only. */
const LOST_MESSAGE = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection closed/i;

/**
 * SQLSTATE classes 22 (data exception: e.g. 22P05 `\u0000` in jsonb, 22P02 a lone surrogate in
 * jsonb, 22021 U+0000 in text) and 23 (integrity constraint violation): PostgreSQL refused a value.
 */
const DATA_SQLSTATE = /^2[23]/;

/** Whether PostgreSQL refused the data of a statement (SQLSTATE class 22 or 23), before or after {@link translatePgError}. */
export function isPgDataError(err: unknown): boolean {
  const raw = err instanceof InvalidArgumentError ? err.cause : err;
  const code = (raw as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DATA_SQLSTATE.test(code);
}

/**
 * Turns a PostgreSQL client error into a SpoolError whose message says what to do. A refused
 * value (SQLSTATE class 22 or 23) becomes INVALID_ARGUMENT on `field` (or the field `field` names
 * for the SQLSTATE). Other errors pass through.
 */
export function translatePgError(err: unknown, doing: string, field: string | ((sqlstate: string) => string) = 'data'): unknown {
  if (err instanceof SpoolError) return err;
  const e = err as { code?: string; message?: string; detail?: string };
  const code = e?.code ?? '';
  if (DATA_SQLSTATE.test(code)) {
    const detail = e.detail ? ` ${e.detail}` : '';
    return new InvalidArgumentError(typeof field === 'string' ? field : field(code), `cannot ${doing}: PostgreSQL refused a value (${code}: ${e.message}.${detail}) Nothing of it was written.`, { cause: err });
  }
  if (code === CANCELLED) {
    return new StoreUnavailableError(
      `cannot ${doing}: PostgreSQL cancelled it (${e.message}): an operator read may run for readTimeoutMs at most. Narrow it (one state, a time range, a smaller page) or raise readTimeoutMs. Nothing was changed.`,
      { cause: err },
    );
  }
  if (code === '53100') {
    return new StoreUnavailableError(`cannot ${doing}: PostgreSQL's disk is full (${e.message}). Free space and retry. Nothing from this call was written.`, { cause: err });
  }
  // A login refused or a database gone: retrying the same call will not help; the URL (or the server) must change.
  if (LOGIN_SQLSTATE.test(code)) {
    return new StoreUnavailableError(`cannot ${doing}: PostgreSQL refused the login (${code}: ${e.message}). Check the user name and password in the store URL. Nothing from this call was written.`, { cause: err });
  }
  if (code === NO_DATABASE) {
    return new StoreUnavailableError(`cannot ${doing}: ${e.message} (${code}). Check the database name in the store URL. Nothing from this call was written.`, { cause: err });
  }
  if (code === READ_ONLY_SQLSTATE) {
    return new StoreUnavailableError(
      `cannot ${doing}: the PostgreSQL server is read-only (${code}: ${e.message}): a standby, or a primary that failed over. Use a store URL that lists the hosts with target_session_attrs=read-write. Nothing from this call was written.`,
      { cause: err },
    );
  }
  const lost = !code && LOST_MESSAGE.test(e?.message ?? '');
  if (lost || CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)) {
    return new StoreUnavailableError(
      `cannot ${doing}: PostgreSQL is unreachable or restarting (${code}: ${e.message}). Spool reconnects by itself; retry the call. ` +
        (NEVER_SENT.has(code)
          ? 'Nothing from this call was written.'
          // A connection that broke mid-call may have broken after the commit: the call may have taken effect.
          : 'If the connection broke as the call committed, it may have taken effect: an add retried with the same idempotencyKey is stored once (the TypeScript client keys every add).'),
      { cause: err },
    );
  }
  return err;
}

/** Where a store was being opened, for {@link pgOpenError}'s messages. */
export interface PgTarget {
  /** The postgres:// URL (its password is never printed). */
  url: string;
  schema: string;
}

/**
 * Turns the failure to open a PostgreSQL store (connect, log in, find the database, migrate
 * the schema) into a StoreUnavailableError of one line: what went wrong, where (host, port,
 * database and schema; never the password) and what to do. A SpoolError that is not about
 * the connection (SchemaTooNewError, a bad option), an error that is not from the client
 * or the server (no `code`), and a statement or value the server refuses (SQLSTATE class 42
 * but 42501, classes 22 and 23: bugs of ours) pass through.
 * @example
 * // cannot open the PostgreSQL store at postgres://db:5432/app (schema spool): PostgreSQL refused the
 * // password of user "app" (28P01). Check the user name and password in the store URL.
 */
export function pgOpenError(err: unknown, target: PgTarget): unknown {
  if (err instanceof SpoolError && !(err instanceof StoreUnavailableError && err.cause !== undefined)) return err;
  const raw = (err instanceof StoreUnavailableError && err.cause !== undefined ? err.cause : err) as { code?: unknown; message?: unknown } | null;
  const code = typeof raw?.code === 'string' ? raw.code : '';
  const message = typeof raw?.message === 'string' ? raw.message : String(raw);
  // Without a code, only the messages of connection failures (node-postgres gives some that way) are about reaching the database.
  if (!code && !LOST_MESSAGE.test(message) && !TLS_MESSAGE.test(message) && err === raw) return err;
  // A statement PostgreSQL cannot run (class 42 but a missing privilege) or data it refuses: a bug of ours, whose stack helps.
  if ((/^42/.test(code) && code !== NO_PRIVILEGE) || DATA_SQLSTATE.test(code)) return err;
  const where = describePgTarget(target);
  const { host, database, user, at } = where;
  let what: string;
  if (code === WRONG_PASSWORD) {
    what = `PostgreSQL refused the password of user "${user}" (${code}). Check the user name and password in the store URL`;
  } else if (LOGIN_SQLSTATE.test(code)) {
    what = `PostgreSQL refused the login of user "${user}" (${code}: ${message}). Check the user name in the store URL, and that the server lets it connect (pg_hba.conf)`;
  } else if (code === NO_DATABASE) {
    what = `there is no database "${database}" on ${at} (${code}). Check the database name in the store URL, or create it (createdb ${database})`;
  } else if (code === NO_WRITABLE_HOST || code === READ_ONLY_HOST) {
    what = `${message} (${code}). Spool needs a primary: promote a standby, or check the hosts and target_session_attrs in the store URL`;
  } else if (code === 'ECONNREFUSED') {
    what = `nothing accepts connections on ${at} (${code}). Check the host and port in the store URL, and that PostgreSQL is running`;
  } else if (HOST_UNKNOWN.has(code)) {
    what = `the host "${host}" cannot be found (${code}). Check the host in the store URL`;
  } else if (TIMED_OUT.has(code) || /timeout/i.test(message)) {
    what = `no answer from ${at} in time (${code || message}). Check the host and port in the store URL, and any firewall between`;
  } else if (code === NO_PRIVILEGE) {
    what = `user "${user}" may not create or use schema "${target.schema}" (${code}: ${message}). Run spool migrate as a user who may, or grant it (GRANT CREATE ON DATABASE ${database} TO ${user})`;
  } else if (UNAVAILABLE_SQLSTATE.test(code)) {
    what = `PostgreSQL on ${at} cannot take this connection now (${code}: ${message}). Retry in a moment`;
  } else if (TLS_MESSAGE.test(message)) {
    what = `the TLS connection to ${at} failed (${message}). Check sslmode (and the certificates) in the store URL`;
  } else {
    what = `${message.replace(/[\s.]+$/, '')}${code ? ` (${code})` : ''}. Check the store URL and the server`;
  }
  return new StoreUnavailableError(`cannot open the PostgreSQL store at ${where.location}: ${what}.`, { cause: raw ?? err });
}

/**
 * The parts of a postgres:// URL worth printing: host, port, database and user, and a
 * location `postgres://host:port/database (schema s)`. Never the password.
 */
export function describePgTarget(target: PgTarget): { host: string; port: string; at: string; database: string; user: string; location: string } {
  let url: URL | null = null;
  // Several hosts (failover): user and database from the first; `at` lists every host:port.
  const parsed = typeof target.url === 'string' ? parsePgUrl(target.url) : null;
  const hosts = parsed && typeof parsed !== 'string' ? parsed.hosts : null;
  try {
    url = new URL(hosts ? hosts[0]!.url : target.url);
  } catch {
    // Described as unknown below: the caller validated the URL; this only guards the message.
  }
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const host = url?.hostname || 'localhost';
  const port = url?.port || '5432';
  const user = decode(url?.username || '') || '(the default user)';
  const database = decode(url?.pathname.replace(/^\//, '') ?? '') || decode(url?.username ?? '') || 'postgres';
  const at = hosts && hosts.length > 1 ? hosts.map((h) => `${h.host}:${h.port}`).join(',') : `${host}:${port}`;
  return { host, port, at, database, user, location: `postgres://${at}/${database} (schema ${target.schema})` };
}
