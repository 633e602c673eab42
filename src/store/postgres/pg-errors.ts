import { SpoolError, StoreUnavailableError } from '../../core/errors.ts';

/** Connection-level failures: the database is down, restarting or unreachable. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);
/** SQLSTATE classes meaning "not now": connection exceptions, shutdown, insufficient resources. */
const UNAVAILABLE_SQLSTATE = /^(08|57P0|53)/;

/** Turns a PostgreSQL client error into a SpoolError whose message says what to do. Other errors pass through. */
export function translatePgError(err: unknown, doing: string): unknown {
  if (err instanceof SpoolError) return err;
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  if (code === '53100') {
    return new StoreUnavailableError(`cannot ${doing}: PostgreSQL's disk is full (${e.message}). Free space and retry. Nothing from this call was written.`, { cause: err });
  }
  // node-postgres reports some connection losses by message only.
  const lost = !code && /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection closed/i.test(e?.message ?? '');
  if (lost || CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)) {
    return new StoreUnavailableError(
      `cannot ${doing}: PostgreSQL is unreachable or restarting (${code}: ${e.message}). Spool reconnects by itself; retry the call. Nothing from this call was written.`,
      { cause: err },
    );
  }
  return err;
}
