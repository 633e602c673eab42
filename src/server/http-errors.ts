import { SpoolError } from '../core/errors.ts';
import type { WireError } from '../protocol/frames.ts';
import { errorToWire } from '../protocol/wire-errors.ts';

/** HTTP status for each error code; one place, so every route answers alike. */
const STATUS: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  JOB_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  NOT_FOUND: 404,
  STALE_LEASE: 409,
  INVALID_STATE: 409,
  QUEUE_FULL: 429,
  TOO_MANY: 429,
  CLOSED: 503,
  STORE_UNAVAILABLE: 503,
};

/** The JSON error body every route sends: `{ code, message }` and the fields of the error (`jobId`, `currentState`, `field`, `scope`…). */
export type ErrorBody = WireError;

/** What to answer for an error: status, body, and the headers it needs (a 401 names the auth scheme). */
export interface HttpError {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/**
 * Maps any error to a status and a `{ code, message }` body. A client's mistake
 * (bad JSON, a failed schema check, a body over the limit) is a 4xx; only a fault of
 * ours is a 500, and its message does not leak internals.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof SpoolError) {
    const status = STATUS[err.code] ?? 500;
    // RFC 9110: a 401 must say which scheme would work.
    // The same body as on the WebSocket: code, message and the error's fields (jobId, currentState…).
    return { status, body: errorToWire(err), ...(status === 401 ? { headers: { 'www-authenticate': 'Bearer' } } : {}) };
  }
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (e?.validation) return { status: 400, body: { code: 'INVALID_ARGUMENT', message: e.message ?? 'invalid request' } };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = e.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : e.statusCode === 404 ? 'NOT_FOUND' : e.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_ARGUMENT';
    return { status: e.statusCode, body: { code, message: e.message ?? 'bad request' } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error; see the server log' } };
}
