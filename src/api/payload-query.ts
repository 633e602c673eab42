/**
 * A payload filter as the wire carries it: two flat fields, so an HTTP query string can hold
 * it (`payloadPath=user.id&payloadEquals=12345`), the same on every transport.
 *
 * `payloadEquals` is text: parsed as JSON when it parses, else taken as the string itself. So
 * `12345` is the number, `"12345"` (with the quotes) the string, `alice` the string `alice`,
 * `true`, `false` and `null` those values, `"null"` the string. JSON that is no scalar (an
 * object or array) is refused. Clients send JSON.stringify(equals), which always reads back
 * as the value it was.
 */
import type { PayloadFilter } from './contract.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { JOB_ID_MAX_MS } from '../core/ids.ts';
import type { Schema } from './schemas.ts';

export interface PayloadQuery {
  payloadPath?: string;
  payloadEquals?: string;
}

/** Longest `payloadEquals` text: a 1,000-character string with every character escaped. */
const EQUALS_TEXT_MAX = 6 * 1000 + 2;

export const payloadQuerySchemas: Record<string, Schema> = {
  createdAfter: { type: 'integer', minimum: 0, maximum: JOB_ID_MAX_MS, description: 'Only jobs created at or after this time (Unix ms), read from their ids.' },
  createdBefore: { type: 'integer', minimum: 0, maximum: JOB_ID_MAX_MS, description: 'Only jobs created at or before this time (Unix ms, inclusive); not before createdAfter.' },
  payloadPath: {
    type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}(\\.[A-Za-z0-9_-]{1,64}){0,7}$',
    description: 'A payload field: 1–8 object keys joined by dots (e.g. `user.id`). With payloadEquals: a bounded search (at most searchScanMax jobs per call).',
  },
  payloadEquals: {
    type: 'string', maxLength: EQUALS_TEXT_MAX,
    description: 'The value the field must equal: JSON when it parses (`12345` a number, `"12345"` a string, `true`, `null`), else the text itself as a string.',
  },
};

/** The payload filter of a request, or undefined. @throws InvalidArgumentError naming payloadPath or payloadEquals. */
export function payloadFilterOf(q: PayloadQuery): PayloadFilter | undefined {
  if (q.payloadPath === undefined && q.payloadEquals === undefined) return undefined;
  if (q.payloadPath === undefined) throw new InvalidArgumentError('payloadPath', 'payloadEquals needs payloadPath: the field to compare');
  if (q.payloadEquals === undefined) throw new InvalidArgumentError('payloadEquals', 'payloadPath needs payloadEquals: the value to compare with');
  let equals: unknown;
  try {
    equals = JSON.parse(q.payloadEquals);
  } catch {
    equals = q.payloadEquals;
  }
  if (typeof equals === 'object' && equals !== null) {
    throw new InvalidArgumentError('payloadEquals', 'payloadEquals must be a string, a number, true, false or null (an object or array cannot be compared)');
  }
  return { path: q.payloadPath, equals: equals as PayloadFilter['equals'] };
}

/** The wire fields of a payload filter. */
export const payloadQueryOf = (filter: PayloadFilter | undefined): PayloadQuery =>
  filter === undefined ? {} : { payloadPath: filter.path, payloadEquals: JSON.stringify(filter.equals) };
