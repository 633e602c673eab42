import { InvalidArgumentError } from './errors.ts';
import { describe } from './limits.ts';

/** Tags a client gives itself (`Spool.connect({ tags })`): shown with its consumers on the dashboard and in the overview. */
export type Tags = Readonly<Record<string, string>>;

/** Most tags one client carries. */
export const TAGS_MAX = 16;
/** Longest tag value, in characters. */
export const TAG_VALUE_MAX = 256;
/** A tag's name: 1–64 letters, digits, '.', '_', '-' or ':', starting with a letter or digit. */
export const TAG_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$';
const NAME_RE = new RegExp(TAG_NAME_PATTERN);
// Control characters would garble a log line or a table cell.
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/**
 * Checks a client's tags: an object of at most 16 names (see {@link TAG_NAME_PATTERN}) to
 * strings of at most 256 characters without control characters.
 * @example
 * checkTags({ region: 'eu-west-1', gpu: 'a100' });
 * @throws InvalidArgumentError naming the tag at fault.
 */
export function checkTags(tags: unknown, field = 'tags'): Tags {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw new InvalidArgumentError(field, `${field} must be an object of names to strings, e.g. { region: 'eu-west-1' } (got ${describe(tags)})`);
  const entries = Object.entries(tags);
  if (entries.length > TAGS_MAX) throw new InvalidArgumentError(field, `${field}: at most ${TAGS_MAX} tags (got ${entries.length})`);
  for (const [name, value] of entries) {
    if (!NAME_RE.test(name)) throw new InvalidArgumentError(`${field}.${name}`, `${field}: tag name ${JSON.stringify(name.slice(0, 70))} is not valid: use 1–64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`);
    if (typeof value !== 'string' || value.length > TAG_VALUE_MAX || CONTROL_RE.test(value)) {
      throw new InvalidArgumentError(`${field}.${name}`, `${field}.${name} must be a string of at most ${TAG_VALUE_MAX} characters without control characters (got ${describe(value)})`);
    }
  }
  return Object.fromEntries(entries) as Tags;
}
