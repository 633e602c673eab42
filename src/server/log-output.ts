/**
 * The logger `spool serve` writes to: pino, one JSON object a line when its output is not
 * a terminal (for log shippers), readable lines (pino-pretty) on a terminal.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './logging.ts';

/** `--log-level`: a level, or `silent` for no lines. */
export const LOG_LEVELS: readonly (LogLevel | 'silent')[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];
/** `--log-format`: `json` (one object a line) or `pretty` (for people). */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where log lines go: a stream, or anything with a write(text) that writes at once. */
export interface LogSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface LoggerOptions {
  /** Default `info`. */
  level?: LogLevel | 'silent';
  /** Default: `pretty` when `sink` is a terminal, else `json`. */
  format?: LogFormat;
  /** Default process.stdout. */
  sink?: LogSink;
}

/**
 * A pino logger for the broker. JSON lines carry `level` as its name (`"level":"info"`),
 * `time` in ISO 8601, `pid`, `hostname` and `msg`, then the line's fields; pretty lines are
 * `[time] LEVEL: msg` with the fields below. Writes are synchronous, so lines keep their order
 * with anything else the process writes to the same sink.
 * @example
 * const logger = await createLogger({ level: 'debug' });
 * const broker = await startBroker(spool, { logger });
 */
export async function createLogger(options: LoggerOptions = {}): Promise<Logger> {
  const sink = options.sink ?? process.stdout;
  const level = options.level ?? 'info';
  const format = options.format ?? (sink.isTTY ? 'pretty' : 'json');
  if (format === 'json') {
    return pino({ level, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, { write: (line: string) => void sink.write(line) });
  }
  // Loaded only for a terminal: a broker writing JSON never loads the prettifier.
  const { prettyFactory } = await import('pino-pretty');
  const pretty = prettyFactory({ colorize: sink.isTTY === true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true });
  return pino({ level }, { write: (line: string) => void sink.write(pretty(line)) });
}

/**
 * A sink that holds what is written until {@link HeldSink.release}, then passes it on in
 * order and writes through. `spool serve` holds its log until it has printed its serving
 * line, so that line stays the first on stdout (scripts read it) whatever was logged while
 * the broker started.
 */
export class HeldSink implements LogSink {
  readonly #target: LogSink;
  #held: string[] | null = [];

  constructor(target: LogSink) {
    this.#target = target;
  }

  get isTTY(): boolean {
    return this.#target.isTTY === true;
  }

  write(text: string): void {
    if (this.#held) this.#held.push(text);
    else this.#target.write(text);
  }

  /** Writes what was held and, from now on, everything at once. Idempotent. */
  release(): void {
    const held = this.#held;
    this.#held = null;
    if (held && held.length > 0) this.#target.write(held.join(''));
  }
}
