/**
 * The broker's log: a fixed catalogue of lines (each a `msg` with fields), written to a
 * pino-compatible logger. docs/operations.md ("Logs") lists every one; a test keeps the
 * two in step. API token secrets never reach a line: only a token's id is logged.
 */
import { CLOCK_SLEW } from '../core/clock.ts';
import { errorSpec } from '../core/error-codes.ts';
import { SpoolError, StoreUnavailableError } from '../core/errors.ts';
import type { OpenOptions, SpoolEvent } from '../engine/options.ts';
import { rateLimited } from '../engine/outages.ts';
import { tokenIdOf } from './auth/tokens.ts';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/**
 * What the broker writes its lines to: pino's `Logger` is one (as is Fastify's `request.log`),
 * and so is any object with these methods. Each call is `(fields, msg)`.
 */
export interface BrokerLogger {
  trace(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  /** pino's: whether a level is written (the debug access lines are skipped when not). */
  isLevelEnabled?(level: string): boolean;
}

/** Every line the broker, its engine and `spool serve` write: the `msg`, and the levels it is written at. */
export const LOG_EVENTS = {
  'broker listening': ['info'],
  'broker closing': ['info'],
  'broker closed': ['info'],
  'shutdown begun': ['info'],
  'shutdown finished': ['info'],
  'connection opened': ['info'],
  'connection closed': ['info', 'debug'],
  'connection refused': ['info', 'warn'],
  'auth failed': ['warn', 'debug'],
  'request failed': ['info', 'warn', 'error'],
  'request completed': ['debug'],
  'unhealthy': ['error'],
  'healthy again': ['info'],
  'leases reaped': ['info'],
  'leadership acquired': ['info'],
  'leadership lost': ['warn'],
  'clock stepped': ['warn'],
  'background error': ['error'],
  'leases abandoned': ['info'],
} as const satisfies Record<string, readonly LogLevel[]>;

export type LogEvent = keyof typeof LOG_EVENTS;

const LOGGER_METHODS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** Whether `value` can be given as `logger`: an object with the five level methods. */
export function isBrokerLogger(value: unknown): value is BrokerLogger {
  return typeof value === 'object' && value !== null && LOGGER_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

/** Writes the catalogue's lines to a logger; given none (or `false`), writes nothing. */
export class BrokerLog {
  readonly #logger: BrokerLogger | null;

  constructor(logger: BrokerLogger | false | undefined) {
    this.#logger = logger ? logger : null;
  }

  /** Whether there is a logger at all. */
  get on(): boolean {
    return this.#logger !== null;
  }

  /** Whether lines at `level` are written (a logger without isLevelEnabled writes every level it is given). */
  enabled(level: LogLevel): boolean {
    return this.#logger !== null && (this.#logger.isLevelEnabled?.(level) ?? true);
  }

  write<E extends LogEvent>(event: E, level: (typeof LOG_EVENTS)[E][number], fields: Record<string, unknown> = {}): void {
    this.#logger?.[level](fields, event);
  }
}

/** Longest text a line copies from a client (a client name, a URL, a close reason). */
const CLIENT_TEXT_MAX = 200;

/** A client-supplied text for a log field: strings only, cut to a bounded length. */
export function clientText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.length > CLIENT_TEXT_MAX ? `${value.slice(0, CLIENT_TEXT_MAX)}…` : value;
}

/** The credential in an `Authorization` header (the text after `Bearer`), or the whole header when it has another form. */
function credentialOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? authorization.trim();
}

/** The id of the API token in an `Authorization` header (the public part of `spool_<id>_<secret>`), or null. */
export function tokenIdOfHeader(authorization: string | undefined): string | null {
  const credential = credentialOf(authorization);
  return credential ? tokenIdOf(credential) : null;
}

/**
 * The fields of an `auth failed` line: the error's code and message (with any copy of the
 * presented credential blanked out), and the token's id when the credential has the form
 * of a Spool token. Never the credential itself.
 */
export function authFailure(err: unknown, authorization: string | undefined): Record<string, unknown> {
  const code = err instanceof SpoolError ? err.code : 'UNAUTHORIZED';
  let reason = err instanceof Error ? err.message : String(err);
  const credential = credentialOf(authorization);
  if (credential) reason = reason.split(credential).join('[redacted]');
  return { code, reason, tokenId: tokenIdOfHeader(authorization) };
}

/**
 * The level and fields of a `request failed` line for an error answered with `status`:
 * a client's mistake at `info` (a refused permission at `warn`), the store or broker being
 * unavailable (503) at `warn`, any other 5xx at `error` with the error and its stack. The
 * client never gets the stack: its body says only `internal error`.
 */
export function requestFailure(status: number, code: string, message: string, err: unknown): { level: 'info' | 'warn' | 'error'; fields: Record<string, unknown> } {
  if (status >= 500 && status !== 503) return { level: 'error', fields: { status, code, err } };
  const level = status === 403 || status === 503 ? 'warn' : 'info';
  return { level, fields: { status, code, message: clientText(message) } };
}

/** The HTTP status a WebSocket error code stands for (500 for one the table does not know). */
export function statusOfCode(code: string): number {
  return errorSpec(code)?.status ?? 500;
}

/**
 * What to give `Spool.open` so the engine's lines go to `logger`: health changes
 * (`unhealthy`, `healthy again`), `leases reaped` (one line per maintenance tick),
 * `leadership acquired` / `lost` (PostgreSQL), `clock stepped`, and other background errors,
 * at most one a minute per kind. `spool serve` uses it; a program embedding the broker can too.
 * @example
 * const logger = pino();
 * const spool = await Spool.open({ store, ...engineLogOptions(logger) });
 * const broker = await startBroker(spool, { logger });
 */
export function engineLogOptions(logger: BrokerLogger): Required<Pick<OpenOptions, 'log' | 'onError' | 'onEvent'>> {
  const log = new BrokerLog(logger);
  return {
    // Health changes arrive as events too, with their fields: the text lines would repeat them.
    log: () => {},
    onError: rateLimited((err, during, suppressed) => {
      // An outage is the `unhealthy` line already, once; not a line per failed call.
      if (err instanceof StoreUnavailableError) return;
      log.write('background error', 'error', { during, err, ...(suppressed > 0 ? { suppressed } : {}) });
    }),
    onEvent: (event: SpoolEvent) => {
      switch (event.type) {
        case 'unhealthy':
          return log.write('unhealthy', 'error', { reason: event.reason });
        case 'healthy':
          return log.write('healthy again', 'info', { downMs: event.downMs });
        case 'leases-reaped':
          return log.write('leases reaped', 'info', { count: event.count, queues: event.queues });
        case 'leadership':
          return event.led ? log.write('leadership acquired', 'info', { duty: 'maintenance' }) : log.write('leadership lost', 'warn', { duty: 'maintenance' });
        case 'clock-stepped':
          return log.write('clock stepped', 'warn', { offsetMs: event.offsetMs, catchUpS: Math.round(Math.abs(event.offsetMs) / CLOCK_SLEW / 1000) });
      }
    },
  };
}
