import {
  ClosedError, ForbiddenError, InvalidArgumentError, InvalidStateError, JobNotFoundError, PayloadTooLargeError, SpoolError, StaleLeaseError, StoreUnavailableError, UnauthorizedError,
} from '../core/errors.ts';
import type { WireError } from './frames.ts';

/** The fields of error classes that travel with them, so the far side can rebuild the class. */
const DETAILS = ['field', 'jobId', 'currentState', 'currentToken', 'sizeBytes', 'limitBytes', 'retryAfterMs', 'scope'] as const;

/**
 * An error as it goes on the wire. A SpoolError keeps its code, message and details;
 * anything else is a fault of ours, sent as INTERNAL without its message (which could
 * leak internals).
 */
export function errorToWire(err: unknown): WireError {
  if (!(err instanceof SpoolError)) return { code: 'INTERNAL', message: 'internal error; see the broker log' };
  const wire: WireError = { code: err.code, message: err.message };
  for (const key of DETAILS) {
    const value = (err as unknown as Record<string, unknown>)[key];
    if (value !== undefined) wire[key] = value;
  }
  return wire;
}

/**
 * Rebuilds an error from the wire as the class the in-process engine would have thrown,
 * so `err instanceof StaleLeaseError` works the same with a remote Spool.
 */
export function errorFromWire(wire: WireError): SpoolError {
  const text = (key: string) => (typeof wire[key] === 'string' ? (wire[key] as string) : '');
  let err: SpoolError;
  switch (wire.code) {
    case 'STALE_LEASE':
      err = new StaleLeaseError(
        text('jobId'), 0,
        typeof wire.currentState === 'string' ? wire.currentState : null,
        // The client tells its own completed ack from another attempt's by this token.
        typeof wire.currentToken === 'number' ? wire.currentToken : null,
      );
      break;
    case 'INVALID_ARGUMENT':
      err = new InvalidArgumentError(text('field'), wire.message);
      break;
    case 'JOB_NOT_FOUND':
      err = new JobNotFoundError(text('jobId'));
      break;
    case 'INVALID_STATE':
      err = new InvalidStateError(text('jobId'), text('currentState'), wire.message);
      break;
    case 'PAYLOAD_TOO_LARGE':
      err = new PayloadTooLargeError(Number(wire.sizeBytes) || 0, Number(wire.limitBytes) || 0, text('field') || 'payload');
      break;
    case 'STORE_UNAVAILABLE':
      err = new StoreUnavailableError(wire.message);
      break;
    case 'UNAUTHORIZED':
      err = new UnauthorizedError(wire.message);
      break;
    case 'FORBIDDEN':
      err = new ForbiddenError(text('scope'));
      break;
    case 'CLOSED':
      err = new ClosedError();
      break;
    default:
      err = new SpoolError(wire.code, wire.message);
  }
  err.message = wire.message; // the broker's words, which may say more than the class's default
  if (typeof wire.retryAfterMs === 'number') Object.assign(err, { retryAfterMs: wire.retryAfterMs });
  return err;
}
