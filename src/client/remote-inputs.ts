/**
 * A remote client's inputs checked before anything travels, as the engine checks them and in
 * the same words, and encoded as they travel.
 */
import { newJobId } from '../core/ids.ts';
import { checkTags } from '../core/tags.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { checkLimit, describe } from '../core/limits.ts';
import type { JobTrace } from '../core/job.ts';
import { checkOptionKeys, checkOptionType } from '../core/options.ts';
import { checkJobId, encodeJson } from '../core/validate.ts';
import { checkAddOptions, type AddOptions } from '../core/add-options.ts';
import { BULK_ACTIONS, checkJobFilter } from '../engine/bulk.ts';
import type { BulkAction, JobFilter } from '../api/contract.ts';
import type { PublishItem } from '../protocol/frames.ts';
import type { ConnectOptions } from './remote-spool.ts';

/**
 * The broker URLs and options of Spool.connect, checked: the URL list and the connection
 * limits, each within its bounds. @throws InvalidArgumentError naming what is wrong.
 */
export function checkConnectArgs(urls: string | readonly string[], options: ConnectOptions): {
  list: string[];
  limits: { reconnectBaseMs: number; reconnectMaxMs: number; connectTimeoutMs: number; sendBufferMaxBytes: number; queueFullWaitMs: number };
} {
  const list = typeof urls === 'string' ? [urls] : [...urls];
  if (list.length === 0) throw new InvalidArgumentError('urls', 'Spool.connect needs at least one broker URL, e.g. ws://127.0.0.1:7600');
  for (const url of list) {
    if (typeof url !== 'string' || !URL.canParse(/^[a-z]+:\/\//i.test(url) ? url : `ws://${url}`)) {
      throw new InvalidArgumentError('urls', `Spool.connect: ${JSON.stringify(url)} is not a broker URL, e.g. ws://127.0.0.1:7600`);
    }
  }
  // Every key of ConnectOptions (the compiler keeps this complete); others are refused.
  const known: Record<keyof ConnectOptions, true> = {
    token: true, client: true, tags: true, reconnectBaseMs: true, reconnectMaxMs: true, connectTimeoutMs: true, sendBufferMaxBytes: true,
    ca: true, clock: true, log: true, random: true, onError: true, queueFullWaitMs: true,
  };
  checkOptionKeys(options, Object.keys(known), 'Spool.connect');
  checkOptionType(options.token, 'token', 'string');
  checkOptionType(options.client, 'client', 'string');
  if (options.tags !== undefined) checkTags(options.tags);
  if (options.ca !== undefined && typeof options.ca !== 'string' && !Buffer.isBuffer(options.ca)) {
    throw new InvalidArgumentError('ca', 'ca must be PEM text (a string or Buffer)');
  }
  checkOptionType(options.clock, 'clock', 'object');
  for (const fn of ['log', 'random', 'onError'] as const) checkOptionType(options[fn], fn, 'function');
  const reconnectBaseMs = checkLimit('reconnectBaseMs', options.reconnectBaseMs);
  const reconnectMaxMs = checkLimit('reconnectMaxMs', options.reconnectMaxMs);
  if (reconnectMaxMs < reconnectBaseMs) {
    throw new InvalidArgumentError('reconnectMaxMs', `reconnectMaxMs must be at least reconnectBaseMs (got ${reconnectMaxMs} < ${reconnectBaseMs})`);
  }
  const limits = {
    reconnectBaseMs, reconnectMaxMs,
    connectTimeoutMs: checkLimit('connectTimeoutMs', options.connectTimeoutMs),
    sendBufferMaxBytes: checkLimit('sendBufferMaxBytes', options.sendBufferMaxBytes),
    queueFullWaitMs: checkLimit('queueFullWaitMs', options.queueFullWaitMs),
  };
  return { list, limits };
}

/** A bulk call checked as the engine checks it (engine/bulk.ts), in the same words. */
export function checkBulk(action: BulkAction, filter: JobFilter, options: { after?: string; limit?: number }): void {
  if (!BULK_ACTIONS.includes(action)) {
    throw new InvalidArgumentError('action', `bulk: action must be one of ${BULK_ACTIONS.join(', ')} (got ${describe(action)})`);
  }
  checkJobFilter(filter);
  checkOptionKeys(options, ['after', 'limit'], 'bulk');
  if (options?.after !== undefined) checkJobId(options.after, 'after');
  checkLimit('bulkBatchMax', options?.limit, 'limit');
}

/**
 * A value as it may travel: refused here, as the engine would, when JSON cannot carry it
 * faithfully (NaN would arrive as null, a BigInt would fail the whole frame). Sizes are the
 * broker's to check: it knows its limits.
 */
export function checkStorable(value: unknown, field: 'payload' | 'result'): void {
  encodeJson(value, Number.MAX_SAFE_INTEGER, field);
}

/**
 * An add's options as they travel: a Date run time becomes epoch milliseconds. Checked first
 * as the engine checks them (an unknown option, a bad delay), so a refusal reads the same;
 * the broker checks them again against its own clock. `trace` is the option's, else the
 * caller's active span's (`active`); it travels only when there is one (left out, the broker
 * stores none).
 */
export function toPublishItem(payload: unknown, options: AddOptions, now: number, active: () => JobTrace | null): PublishItem {
  const checked = checkAddOptions(options, now);
  checkStorable(payload, 'payload');
  const { tx: _tx, runAt, trace: _trace, ...rest } = options;
  const trace = checked.trace === undefined ? active() : checked.trace;
  // Every add carries a key, chosen here, when it is first sent, and kept when the connection
  // re-sends it after a reconnect: a re-sent add whose first send was stored is not stored again.
  // Time-ordered (a UUIDv7, as job ids), not random: the stores' key indexes then grow at their
  // right edge, as the jobs' do, where random keys dirty a page of the index per add once it
  // outgrows the page cache (measured: W1/W2 through a broker on SQLite 1.4–1.8 times slower).
  const idempotencyKey = checked.idempotencyKey ?? newJobId();
  return {
    ...rest, payload, idempotencyKey, ...(runAt === undefined ? {} : { runAt: runAt instanceof Date ? runAt.getTime() : runAt }), ...(trace === null ? {} : { trace }),
  };
}
