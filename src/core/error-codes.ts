/**
 * Every error code Spool raises, in one table: the HTTP status the broker answers with,
 * the `spool` command's exit status, the fields that travel with the error, and how a
 * client rebuilds its class. `http-errors.ts`, `wire-errors.ts` and the CLI's
 * `exit-codes.ts` read this table; `error-codes.test.ts` fails on a code raised anywhere
 * in `src/` that is not listed here, and checks docs/protocol.md and docs/cli.md against it.
 *
 * To add a code: add its row here (and its class to errors.ts if the TypeScript API can
 * meet it), then a row in docs/protocol.md's errors table.
 */
import {
  AlertNotFoundError, ScheduleNotFoundError, ClosedError, ConnectionLostError, ForbiddenError, InternalError, InvalidArgumentError, InvalidStateError, JobNotFoundError, PayloadTooLargeError,
  QueueBusyError, QueueFullError, QueueNotFoundError, SchemaTooNewError, StaleLeaseError, StoreUnavailableError, TokenNotFoundError, TooManyRequestsError, UnauthorizedError, UnavailableError,
  UnrecoverableError, UnsupportedVersionError, type SpoolError,
} from './errors.ts';

/**
 * What the `spool` command's exit status means. Scripts branch on these, so a
 * number never changes meaning; `spool --help` and docs/cli.md print this table.
 */
export const EXIT = {
  /** The command did what was asked. */
  OK: 0,
  /** An unexpected internal error (a bug, or an error Spool does not know). */
  INTERNAL: 1,
  /** Usage error: unknown command or flag, missing argument, bad JSON or a value out of bounds. */
  USAGE: 2,
  /** No job, queue, API token, alert rule or schedule by that id or name. */
  NOT_FOUND: 3,
  /** The job's state does not allow the operation (e.g. retrying a completed job). */
  INVALID_STATE: 4,
  /** The store cannot be used: missing, locked, unwritable, corrupt, or written by a newer Spool. */
  STORE_UNAVAILABLE: 5,
  /** A wait ran out first: `spool wait` found the queue not drained within its `--timeout`. */
  TIMED_OUT: 6,
  /** A bounded queue was full: an add was refused at its `maxLength` (overflow `reject`). Add again later. */
  QUEUE_FULL: 7,
  /** A second SIGINT/SIGTERM ended `serve` or `work` before its graceful shutdown finished. */
  FORCED_STOP: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error as it arrives from the wire: `{ code, message }` and the fields of its class. */
export interface WireFields {
  readonly code: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

/** One row of {@link ERRORS}. */
export interface ErrorSpec {
  /** The HTTP status the broker answers with; null for a code no broker sends (raised by the client, a worker or the CLI). */
  readonly status: number | null;
  /** The `spool` command's exit status when a command ends with this error. */
  readonly exit: ExitCode;
  /** The error's fields that travel with it (HTTP body, WebSocket `error`), besides code and message. */
  readonly fields: readonly string[];
  /** When it happens, in one line. */
  readonly doc: string;
  /**
   * Rebuilds the class from the wire, so `err instanceof StaleLeaseError` works with a
   * remote Spool. Absent: the client gets a plain SpoolError with this code and the fields
   * (the code has no class, or its class never crosses the wire).
   */
  readonly rebuild?: (wire: WireFields) => SpoolError;
}

const text = (wire: WireFields, key: string): string => (typeof wire[key] === 'string' ? wire[key] : '');
const count = (wire: WireFields, key: string): number | null => (typeof wire[key] === 'number' ? wire[key] : null);

/** Every error code, by HTTP status, then the codes no broker sends. */
export const ERRORS = {
  INVALID_ARGUMENT: {
    status: 400, exit: EXIT.USAGE, fields: ['field'],
    doc: 'an argument the call cannot accept: a bad name, a value out of bounds, a malformed body or frame',
    rebuild: (w) => new InvalidArgumentError(text(w, 'field'), w.message),
  },
  UNSUPPORTED_VERSION: {
    status: 400, exit: EXIT.INTERNAL, fields: [],
    doc: 'the client speaks a WebSocket subprotocol or protocol version the broker does not',
    rebuild: (w) => new UnsupportedVersionError(w.message),
  },
  HELLO_REQUIRED: {
    status: 400, exit: EXIT.INTERNAL, fields: [],
    doc: 'a WebSocket frame came before `hello`',
  },
  UNAUTHORIZED: {
    status: 401, exit: EXIT.INTERNAL, fields: [],
    doc: 'no API token, or a malformed, unknown, revoked or expired one',
    rebuild: (w) => new UnauthorizedError(w.message),
  },
  FORBIDDEN: {
    status: 403, exit: EXIT.INTERNAL, fields: ['scope'],
    doc: 'the token is valid, but its scopes do not allow the operation',
    rebuild: (w) => new ForbiddenError(text(w, 'scope'), w.message),
  },
  JOB_NOT_FOUND: {
    status: 404, exit: EXIT.NOT_FOUND, fields: ['jobId'],
    doc: 'no job has this id (it never existed, or retention removed it)',
    rebuild: (w) => new JobNotFoundError(text(w, 'jobId')),
  },
  QUEUE_NOT_FOUND: {
    status: 404, exit: EXIT.NOT_FOUND, fields: ['queue'],
    doc: 'no queue has this name: reads, pause, resume and purge never create one (adding a job or setting its settings does)',
    rebuild: (w) => new QueueNotFoundError(text(w, 'queue')),
  },
  TOKEN_NOT_FOUND: {
    status: 404, exit: EXIT.NOT_FOUND, fields: ['tokenId'],
    doc: 'no API token has this id (it never existed, or it was revoked)',
    rebuild: (w) => new TokenNotFoundError(text(w, 'tokenId')),
  },
  ALERT_NOT_FOUND: {
    status: 404, exit: EXIT.NOT_FOUND, fields: ['alertId'],
    doc: 'no alert rule has this id',
    rebuild: (w) => new AlertNotFoundError(text(w, 'alertId')),
  },
  SCHEDULE_NOT_FOUND: {
    status: 404, exit: EXIT.NOT_FOUND, fields: ['schedule'],
    doc: 'no cron or repeat schedule has this name',
    rebuild: (w) => new ScheduleNotFoundError(text(w, 'schedule')),
  },
  NOT_FOUND: {
    status: 404, exit: EXIT.INTERNAL, fields: [],
    doc: 'no such HTTP route (or WebSocket path)',
  },
  STALE_LEASE: {
    status: 409, exit: EXIT.INVALID_STATE, fields: ['jobId', 'currentState', 'currentToken'],
    doc: 'an ack, nack, extend or release with a lease that is no longer held; the job was not changed',
    // The client tells its own completed ack from another attempt's by currentToken.
    rebuild: (w) => new StaleLeaseError(text(w, 'jobId'), 0, typeof w.currentState === 'string' ? w.currentState : null, count(w, 'currentToken')),
  },
  INVALID_STATE: {
    status: 409, exit: EXIT.INVALID_STATE, fields: ['jobId', 'currentState', 'queue', 'activeJobs'],
    doc: 'the job\'s state does not allow the operation (e.g. retrying a completed job), or a queue with running jobs was to be deleted',
    rebuild: (w): SpoolError => (typeof w.queue === 'string' ? new QueueBusyError(w.queue, count(w, 'activeJobs') ?? 0) : new InvalidStateError(text(w, 'jobId'), text(w, 'currentState'), w.message)),
  },
  PAYLOAD_TOO_LARGE: {
    status: 413, exit: EXIT.USAGE, fields: ['sizeBytes', 'limitBytes', 'field'],
    doc: 'a payload, result or request body over its limit',
    rebuild: (w) => new PayloadTooLargeError(count(w, 'sizeBytes') ?? 0, count(w, 'limitBytes') ?? 0, text(w, 'field') || 'payload'),
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415, exit: EXIT.INTERNAL, fields: [],
    doc: 'a request body that is not `application/json`',
  },
  TOO_MANY: {
    status: 429, exit: EXIT.INTERNAL, fields: ['retryAfterMs'],
    doc: 'the broker holds its maximum of connections, or of requests in progress on this connection',
    rebuild: (w) => new TooManyRequestsError(w.message, count(w, 'retryAfterMs') ?? undefined),
  },
  INTERNAL: {
    status: 500, exit: EXIT.INTERNAL, fields: [],
    doc: 'a fault of the broker\'s own; its log has the details',
    rebuild: (w) => new InternalError(w.message),
  },
  STORE_UNAVAILABLE: {
    status: 503, exit: EXIT.STORE_UNAVAILABLE, fields: [],
    doc: 'the store cannot take the call right now (unreachable, disk full, locked); nothing was written',
    rebuild: (w) => new StoreUnavailableError(w.message),
  },
  CLOSED: {
    status: 503, exit: EXIT.INTERNAL, fields: [],
    doc: 'the Spool instance, store or broker is closed or shutting down',
    rebuild: () => new ClosedError(),
  },
  UNAVAILABLE: {
    status: null, exit: EXIT.INTERNAL, fields: [],
    doc: 'the client reached no broker within `connectTimeoutMs`',
    rebuild: (w) => new UnavailableError(w.message),
  },
  CONNECTION_LOST: {
    status: null, exit: EXIT.INTERNAL, fields: [],
    doc: 'the connection to the broker broke while a request that is not sent again was in flight',
    rebuild: () => new ConnectionLostError(),
  },
  SCHEMA_TOO_NEW: {
    status: null, exit: EXIT.STORE_UNAVAILABLE, fields: [],
    doc: 'the store was written by a newer Spool (or, on PostgreSQL, needs `spool migrate`)',
    rebuild: () => new SchemaTooNewError('the store', 0, 0),
  },
  UNRECOVERABLE: {
    status: null, exit: EXIT.INTERNAL, fields: [],
    doc: 'thrown by a handler when retrying cannot help: the job goes straight to `dead`',
    rebuild: (w) => new UnrecoverableError(w.message),
  },
  TIMEOUT: {
    status: null, exit: EXIT.INTERNAL, fields: [],
    doc: 'an attempt ran longer than its job\'s `timeoutMs`: the handler\'s signal aborts with a `JobTimeoutError` and the attempt fails (never crosses the wire)',
  },
  DRAIN_TIMEOUT: {
    status: null, exit: EXIT.TIMED_OUT, fields: [],
    doc: '`queue.drained()` (or `spool wait`) ran out of time while the queue still had jobs ready, scheduled or active (`DrainTimeoutError`, raised where the wait began, never sent by a broker)',
  },
  JOB_WAIT_TIMEOUT: {
    status: null, exit: EXIT.TIMED_OUT, fields: [],
    doc: '`waitJob()` or `request()` ran out of time before the job finished; `started` says whether a worker had taken it; the job is not cancelled (`JobWaitTimeoutError`, raised where the wait began, never sent by a broker)',
  },
  JOB_FAILED: {
    status: null, exit: EXIT.INVALID_STATE, fields: [],
    doc: 'the job `request()` waited on went dead or was cancelled; `error` is its last error (`JobFailedError`, raised where the wait began, never sent by a broker)',
  },
  SHUTDOWN: {
    status: null, exit: EXIT.INTERNAL, fields: [],
    doc: 'the reason on a handler\'s signal when its worker shuts down past its deadline (`WorkerShutdownError`, never crosses the wire)',
  },
  USAGE: {
    status: null, exit: EXIT.USAGE, fields: [],
    doc: 'the `spool` command line was wrong: unknown command or flag, missing argument, bad JSON (`UsageError`, CLI only)',
  },
  QUEUE_FULL: {
    status: 429, exit: EXIT.QUEUE_FULL, fields: ['queue', 'maxLength', 'retryAfterMs'],
    doc: 'an add to a bounded queue (`maxLength`, overflow `reject`) that holds its bound of jobs waiting to start; nothing was stored (HTTP: a `Retry-After` header says when to add again)',
    rebuild: (w) => new QueueFullError(text(w, 'queue'), count(w, 'maxLength') ?? 0, count(w, 'retryAfterMs') ?? undefined),
  },
} satisfies Record<string, ErrorSpec>;

/** Every error code Spool raises. `SpoolError` takes only these. */
export type ErrorCode = keyof typeof ERRORS;

/** The row of a code, or undefined for a code this version does not know (e.g. a newer broker's). */
export function errorSpec(code: string): ErrorSpec | undefined {
  return Object.hasOwn(ERRORS, code) ? ERRORS[code as ErrorCode] : undefined;
}

/** Every field any code carries, for errors whose code this version does not know. */
export const ALL_FIELDS: readonly string[] = [...new Set(Object.values(ERRORS).flatMap((s: ErrorSpec) => s.fields))];
