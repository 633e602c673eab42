/**
 * The filters a listing (and a bulk action) takes besides state and name: a creation time
 * range, made an id range (job ids begin with their creation time), and a payload field.
 */
import type { PayloadFilter } from '../api/contract.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { JOB_ID_MAX_MS, jobIdBounds } from '../core/ids.ts';
import { describe } from '../core/limits.ts';
import { checkOptionKeys } from '../core/options.ts';
import type { PayloadMatch } from '../store/store.ts';

/** Keys of a payload path: what a JSON path in either store can hold unquoted, and short. */
const PATH_KEY = /^[A-Za-z0-9_-]{1,64}$/;
export const PAYLOAD_PATH_MAX_KEYS = 8;
/** Longest string a payload filter compares with, in UTF-16 code units. */
export const PAYLOAD_EQUALS_MAX = 1000;

/**
 * A creation time bound (Unix ms): an integer a job id can hold (0 to 2^48 - 1, the year 10889).
 * @throws InvalidArgumentError naming `field`.
 */
function checkTime(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > JOB_ID_MAX_MS) {
    throw new InvalidArgumentError(field, `${field} must be a time in Unix milliseconds, an integer from 0 to ${JOB_ID_MAX_MS} (got ${describe(value)})`);
  }
  return value;
}

/**
 * The id range of a creation time range (both ends inclusive, either optional), with the
 * caller's cursor folded in: `after` is the later of the cursor and the id just below the
 * range's first millisecond, `to` the largest id of its last one. So the list reads one range
 * of the (queue, state, id) index and nothing outside it.
 * @throws InvalidArgumentError naming createdAfter or createdBefore (createdBefore when it is before createdAfter).
 */
export function idRange(after: string | undefined, createdAfter: unknown, createdBefore: unknown): { after?: string; to?: string } {
  const from = checkTime(createdAfter, 'createdAfter');
  const until = checkTime(createdBefore, 'createdBefore');
  if (from !== undefined && until !== undefined && until < from) {
    throw new InvalidArgumentError('createdBefore', `createdBefore (${until}) must not be before createdAfter (${from})`);
  }
  const below = from === undefined ? undefined : jobIdBounds(from).below;
  const lower = below === undefined || (after !== undefined && after > below) ? after : below;
  return { ...(lower === undefined ? {} : { after: lower }), ...(until === undefined ? {} : { to: jobIdBounds(until).last }) };
}

/**
 * A payload filter `{ path, equals }`: `path` dot-separated keys (each `[A-Za-z0-9_-]{1,64}`,
 * at most 8), `equals` a string (at most 1,000 characters), a finite number, a boolean or null.
 * @throws InvalidArgumentError naming `payload`, `payload.path` or `payload.equals`, or the unknown key.
 */
export function checkPayloadFilter(filter: unknown, what: string): PayloadMatch {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new InvalidArgumentError('payload', `${what}: payload must be an object { path, equals } (got ${describe(filter)})`);
  }
  checkOptionKeys(filter, ['path', 'equals'], `${what} payload filter`, 'key', 'payload.');
  const { path, equals } = filter as Partial<PayloadFilter>;
  const keys = typeof path === 'string' ? path.split('.') : [];
  if (keys.length === 0 || keys.length > PAYLOAD_PATH_MAX_KEYS || !keys.every((k) => PATH_KEY.test(k))) {
    throw new InvalidArgumentError('payload.path', `payload.path must be 1–${PAYLOAD_PATH_MAX_KEYS} keys joined by dots, each of 1–64 letters, digits, _ or - (got ${describe(path)})`);
  }
  const scalar = equals === null || typeof equals === 'boolean' || (typeof equals === 'number' && Number.isFinite(equals))
    || (typeof equals === 'string' && equals.length <= PAYLOAD_EQUALS_MAX && equals.isWellFormed() && !equals.includes('\0'));
  if (!scalar) {
    throw new InvalidArgumentError('payload.equals', `payload.equals must be a string (at most ${PAYLOAD_EQUALS_MAX} characters), a finite number, true, false or null (got ${describe(equals)})`);
  }
  return { path: keys, equals: equals as PayloadMatch['equals'] };
}
