import type { ErrorCode } from './error-codes.ts';
import type { JobState } from './job.ts';

export type { ErrorCode } from './error-codes.ts';

/**
 * Every error Spool raises on purpose is a `SpoolError` with a stable `code`.
 * Codes never change meaning; the broker sends them verbatim as `{ code, message }`,
 * so scripts can branch on them. Every code is listed, with its HTTP status and exit
 * status, in `ERRORS` (error-codes.ts).
 */
export class SpoolError extends Error {
  /**
   * Stable machine-readable code, e.g. `STALE_LEASE`. An error a client rebuilt from a
   * broker newer than itself may carry a code this version does not list; it is kept verbatim.
   */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A call got an argument it cannot accept: a bad name, a value out of bounds, a malformed option. Nothing was written. */
export class InvalidArgumentError extends SpoolError {
  /** The argument or setting at fault, e.g. `visibilityTimeoutMs`. */
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
    this.field = field;
  }
}

/** A payload (or a handler's result) is larger than its limit (`payloadMaxBytes`, `resultMaxBytes`). Nothing was written. */
export class PayloadTooLargeError extends SpoolError {
  readonly sizeBytes: number;
  readonly limitBytes: number;
  /** What was too large: `payload` or `result`. */
  readonly field: string;
  constructor(sizeBytes: number, limitBytes: number, field = 'payload') {
    const setting = field === 'result' ? 'resultMaxBytes' : 'payloadMaxBytes';
    super(
      'PAYLOAD_TOO_LARGE',
      `${field} is ${sizeBytes} bytes as JSON, over the ${setting} limit of ${limitBytes}; ` +
        `store large data elsewhere and put a reference in the ${field === 'result' ? 'result' : 'job'}, or raise ${setting}`,
    );
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
    this.field = field;
  }
}

/** No job has this id (it never existed, or retention removed it). */
export class JobNotFoundError extends SpoolError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('JOB_NOT_FOUND', `no job with id ${jobId} (it never existed, or retention has removed it)`);
    this.jobId = jobId;
  }
}

/**
 * No queue has this name. A queue exists once a job is added to it or its settings are set
 * (`configure`); reading, pausing or purging a queue never creates it, so a misspelled name
 * is an error rather than a new, empty queue.
 */
export class QueueNotFoundError extends SpoolError {
  readonly queue: string;
  constructor(queue: string) {
    super('QUEUE_NOT_FOUND', `no queue named ${queue}: a queue exists once a job is added to it or its settings are set (configure)`);
    this.queue = queue;
  }
}

/** No API token has this id (it never existed, or it was revoked). */
/** No alert rule has this id. */
export class AlertNotFoundError extends SpoolError {
  readonly alertId: string;
  constructor(alertId: string) {
    super('ALERT_NOT_FOUND', `no alert rule with id ${alertId}; see spool alert list`);
    this.alertId = alertId;
  }
}

/** No cron or repeat schedule has this name. */
export class ScheduleNotFoundError extends SpoolError {
  readonly schedule: string;
  constructor(schedule: string) {
    super('SCHEDULE_NOT_FOUND', `no schedule named ${schedule}; see spool cron list`);
    this.schedule = schedule;
  }
}

export class TokenNotFoundError extends SpoolError {
  readonly tokenId: string;
  constructor(tokenId: string) {
    super('TOKEN_NOT_FOUND', `no API token with id ${tokenId} (it never existed, or it was revoked); see spool token list`);
    this.tokenId = tokenId;
  }
}

/**
 * An ack, nack, extend or release carried a lease the caller no longer holds:
 * the job was redelivered, cancelled, or already finished. The job was not changed.
 */
export class StaleLeaseError extends SpoolError {
  readonly jobId: string;
  /** The state the job is in now, or null if it no longer exists. */
  readonly currentState: string | null;
  /**
   * The job's lease token now, or null if unknown. A finished job keeps the token of the
   * attempt that finished it, so a completed job with the caller's own token was completed
   * by the caller's lease (e.g. an ack whose confirm was lost and that was sent again).
   */
  readonly currentToken: number | null;
  constructor(jobId: string, token: number, currentState: string | null, currentToken: number | null) {
    const why =
      currentState === null
        ? 'the job no longer exists'
        : currentState === 'active' && currentToken !== token
          ? `the job was redelivered (lease ${currentToken} is current)`
          : `the job is ${currentState}`;
    super('STALE_LEASE', `lease ${token} on job ${jobId} is no longer held: ${why}; the job was not changed`);
    this.jobId = jobId;
    this.currentState = currentState;
    this.currentToken = currentToken;
  }
}

/** The operation does not apply to the job's current state, e.g. retrying a completed job. */
export class InvalidStateError extends SpoolError {
  readonly jobId: string;
  readonly currentState: string;
  /** For a queue refused as a whole ({@link QueueBusyError}): the queue; otherwise undefined. */
  readonly queue: string | undefined;
  /** For a queue refused as a whole: how many of its jobs are running; otherwise undefined. */
  readonly activeJobs: number | undefined;
  constructor(jobId: string, currentState: string, message: string) {
    super('INVALID_STATE', message);
    this.jobId = jobId;
    this.currentState = currentState;
    this.queue = undefined;
    this.activeJobs = undefined;
  }
}

/**
 * Deleting a queue was refused because some of its jobs are running: cancel them first, or
 * delete with `force`. Its `queue` and `activeJobs` travel with it, so a remote Spool gets the
 * same class back.
 */
export class QueueBusyError extends InvalidStateError {
  override readonly queue: string;
  override readonly activeJobs: number;
  constructor(queue: string, activeJobs: number, deletedBefore = 0) {
    super(
      '', 'active',
      `queue ${queue} has ${activeJobs} active job${activeJobs === 1 ? '' : 's'}; cancel ${activeJobs === 1 ? 'it' : 'them'} first, ` +
        `or delete the queue with force: true (the workers' acks of those jobs then fail with STALE_LEASE)` +
        (deletedBefore > 0 ? `; ${deletedBefore} jobs of the queue were deleted before a job became active` : ''),
    );
    this.queue = queue;
    this.activeJobs = activeJobs;
  }
}

/** The database was written by a newer Spool whose schema this version does not know. */
export class SchemaTooNewError extends SpoolError {
  constructor(where: string, found: number, known: number) {
    super(
      'SCHEMA_TOO_NEW',
      `${where} has schema version ${found}, but this Spool knows versions up to ${known}: ` +
        'it was written by a newer Spool. Upgrade Spool, or point it at another data directory.',
    );
  }
}

/** The store cannot take writes right now (disk full, I/O error, locked by another process). Nothing from the failed call was written. */
export class StoreUnavailableError extends SpoolError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORE_UNAVAILABLE', message, options);
  }
}

/** The Spool instance or store was closed; open a new one. */
export class ClosedError extends SpoolError {
  constructor(what = 'Spool') {
    super('CLOSED', `${what} is closed`);
  }
}

/**
 * Throw this from a handler when retrying cannot help (bad input, a permanent refusal):
 * the job goes straight to `dead` instead of using its remaining attempts.
 * @example
 * if (!user) throw new UnrecoverableError(`user ${job.payload.userId} does not exist`);
 */
export class UnrecoverableError extends SpoolError {
  constructor(message: string, options?: ErrorOptions) {
    super('UNRECOVERABLE', message, options);
  }
}

/**
 * An attempt ran longer than its job's `timeoutMs`: the reason on the handler's signal, and the
 * error the attempt fails with (retried after backoff like any failure, until maxAttempts).
 */
export class JobTimeoutError extends SpoolError {
  /** The limit the attempt ran past. */
  readonly timeoutMs: number;
  constructor(jobId: string, timeoutMs: number) {
    super('TIMEOUT', `timeout: job ${jobId} ran longer than its timeoutMs of ${timeoutMs} ms; its handler's signal was aborted`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The request carried no API token, a malformed one, or one the broker does not know
 * (never issued, or revoked). HTTP 401.
 */
export class UnauthorizedError extends SpoolError {
  constructor(reason: string) {
    super(
      'UNAUTHORIZED',
      `${reason}: this broker needs an API token; send it as \`Authorization: Bearer <token>\` ` +
        '(create one with `spool token create --scope …`)',
    );
  }
}

/** The token is valid but its scopes do not allow this operation. HTTP 403. */
export class ForbiddenError extends SpoolError {
  /** The scope that would have allowed it, e.g. `publish:orders.eu` or `admin`. */
  readonly scope: string;
  /** `message`: for a refusal no scope would lift (a request from another site's web page). */
  constructor(scope: string, message = `this token lacks ${scope}`) {
    super('FORBIDDEN', message);
    this.scope = scope;
  }
}

/** The client speaks a WebSocket subprotocol or protocol version the broker does not (`UNSUPPORTED_VERSION`). */
export class UnsupportedVersionError extends SpoolError {
  constructor(message: string) {
    super('UNSUPPORTED_VERSION', message);
  }
}

/**
 * The broker refused for now: it holds its maximum of connections (`connectionsMax`), or of
 * requests in progress on this connection (`requestsInflightMax`). HTTP 429. Try again later.
 */
export class TooManyRequestsError extends SpoolError {
  /** How long to wait before sending again, when the broker said. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number) {
    super('TOO_MANY', message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The broker failed on a fault of its own (a bug); its log has the details. HTTP 500. */
export class InternalError extends SpoolError {
  constructor(message = 'internal error; see the broker log') {
    super('INTERNAL', message);
  }
}

/** A remote Spool reached no broker within `connectTimeoutMs`; the message says why the last attempt failed. */
export class UnavailableError extends SpoolError {
  constructor(message: string, options?: ErrorOptions) {
    super('UNAVAILABLE', message, options);
  }
}

/**
 * The connection to the broker broke while a request that is not sent again was in flight:
 * whether the broker applied it is unknown.
 */
export class ConnectionLostError extends SpoolError {
  constructor() {
    super('CONNECTION_LOST', 'the connection to the broker was lost');
  }
}

/**
 * `queue.drained()` (or `spool wait`) gave up: the queue still had jobs ready, scheduled or
 * active when its `timeoutMs` ran out. Raised where the wait began (a remote client's own
 * deadline), never sent by a broker.
 */
export class DrainTimeoutError extends SpoolError {
  readonly queue: string;
  /** The wait that ran out, in ms. */
  readonly timeoutMs: number;
  /** What was still there at the last look: jobs ready, scheduled and active. */
  readonly left: { ready: number; scheduled: number; active: number };
  constructor(queue: string, timeoutMs: number, left: { ready: number; scheduled: number; active: number }) {
    super('DRAIN_TIMEOUT', `queue ${JSON.stringify(queue)} was not drained within ${timeoutMs} ms: ${left.ready} ready, ${left.scheduled} scheduled, ${left.active} active`);
    this.queue = queue;
    this.timeoutMs = timeoutMs;
    this.left = left;
  }
}

/**
 * `waitJob()` or `request()` ran out of time before the job finished. The job is NOT cancelled:
 * it may still run and complete (`spool.cancel(err.jobId)` to stop it). `started` says whether a
 * worker had taken it at the last look (state `active`), or it was still waiting (`ready`,
 * `scheduled`). Raised where the wait began, never sent by a broker.
 */
export class JobWaitTimeoutError extends SpoolError {
  readonly jobId: string;
  /** The job's state at the last look before the time ran out. */
  readonly state: JobState;
  /** Whether the job had started (a worker held it) when the time ran out. */
  readonly started: boolean;
  /** The wait that ran out, in ms. */
  readonly timeoutMs: number;
  constructor(jobId: string, state: JobState, timeoutMs: number) {
    const started = state === 'active';
    super('JOB_WAIT_TIMEOUT', `job ${jobId} did not finish within ${timeoutMs} ms: it is ${state} (${started ? 'started' : 'not started'}); it was not cancelled`);
    this.jobId = jobId;
    this.state = state;
    this.started = started;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The job `request()` waited on finished without a result: it went dead (its attempts ran out,
 * or its handler threw an UnrecoverableError) or was cancelled. `error` is its last error.
 */
export class JobFailedError extends SpoolError {
  readonly jobId: string;
  /** How it ended: `dead` or `cancelled`. */
  readonly state: JobState;
  /** The job's last error (its handler's message), or null (e.g. cancelled before it ran). */
  readonly error: string | null;
  constructor(jobId: string, state: JobState, error: string | null) {
    super('JOB_FAILED', `job ${jobId} ended ${state}${error === null ? '' : `: ${error}`}`);
    this.jobId = jobId;
    this.state = state;
    this.error = error;
  }
}

/**
 * An add was refused: the queue holds its `maxLength` of jobs waiting to start (ready and
 * scheduled) and its `overflow` is `reject`. Nothing was stored. `queue.add` waited
 * `queueFullWaitMs` for room before it threw; wait for workers to take jobs, then add again
 * (over HTTP: 429, retry after `Retry-After`). HTTP 429.
 */
export class QueueFullError extends SpoolError {
  readonly queue: string;
  /** The queue's bound when the add was refused. */
  readonly maxLength: number;
  /** How long to wait before adding again, as the broker suggests. */
  readonly retryAfterMs: number;
  constructor(queue: string, maxLength: number, retryAfterMs = 1000) {
    super('QUEUE_FULL', `queue ${queue} is full: it holds its maxLength of ${maxLength} jobs waiting to start; nothing was stored. Add again once workers have taken jobs (retry after ${retryAfterMs} ms), or raise the queue's maxLength`);
    this.queue = queue;
    this.maxLength = maxLength;
    this.retryAfterMs = retryAfterMs;
  }
}
