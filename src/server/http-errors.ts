import { errorSpec, type ErrorCode } from '../core/error-codes.ts';
import { SpoolError } from '../core/errors.ts';
import type { WireError } from '../protocol/frames.ts';
import { errorToWire } from '../protocol/wire-errors.ts';

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
    // Every route answers alike: the status is the code's in ERRORS (error-codes.ts); a code no broker sends is a fault of ours.
    const status = errorSpec(err.code)?.status ?? 500;
    // RFC 9110: a 401 must say which scheme would work.
    // The same body as on the WebSocket: code, message and the error's fields (jobId, currentState…).
    // A 429 says when to try again (RFC 9110 Retry-After, in whole seconds) when the error knows.
    const retryAfterMs = status === 429 ? (err as { retryAfterMs?: unknown }).retryAfterMs : undefined;
    const headers: Record<string, string> | undefined = status === 401 ? { 'www-authenticate': 'Bearer' }
      : typeof retryAfterMs === 'number' ? { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }
      : undefined;
    return { status, body: errorToWire(err), ...(headers ? { headers } : {}) };
  }
  const e = err as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (e?.validation) return { status: 400, body: { code: 'INVALID_ARGUMENT', message: e.message ?? 'invalid request' } };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code: ErrorCode = e.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : e.statusCode === 404 ? 'NOT_FOUND' : e.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_ARGUMENT';
    return { status: e.statusCode, body: { code, message: e.message ?? 'bad request' } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error; see the server log' } };
}
