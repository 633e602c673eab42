import { InvalidArgumentError, SpoolError, StoreUnavailableError } from '../../core/errors.ts';

/** Connection-level failures: the database is down, restarting or unreachable. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);
/** SQLSTATE classes meaning "not now": connection exceptions, shutdown, insufficient resources. */
const UNAVAILABLE_SQLSTATE = /^(08|57P0|53)/;

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
