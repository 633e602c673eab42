/**
 * Resource tags (resource-aware dispatch, docs/scheduling.md): what a job requires (add option
 * `requires`) and what a worker offers (worker option `tags`), e.g. `gpu`, `region:eu`. A worker
 * leases a job only when the job's tags are all among its own.
 */
import { InvalidArgumentError } from './errors.ts';
import { describe, LIMITS } from './limits.ts';

/** A resource tag: 1–64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit (never a comma: the stored form joins tags with one). */
export const RESOURCE_TAG_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$';
const TAG_RE = new RegExp(RESOURCE_TAG_PATTERN);

/**
 * Checks a list of resource tags and returns it canonical: without repeats, sorted (so equal sets
 * are equal lists, and stores compare and group them as text). An empty list is none.
 * @example
 * checkResourceTags(['region:eu', 'gpu'], 'requires'); // ['gpu', 'region:eu']
 * @throws InvalidArgumentError naming the field (and the tag) at fault.
 */
export function checkResourceTags(tags: unknown, field: string): string[] {
  if (!Array.isArray(tags)) throw new InvalidArgumentError(field, `${field} must be an array of tags, e.g. ['gpu', 'region:eu'] (got ${describe(tags)})`);
  const max = LIMITS.resourceTagsMax.max;
  if (tags.length > max) throw new InvalidArgumentError(field, `${field}: at most ${max} tags (resourceTagsMax; got ${tags.length})`);
  for (const tag of tags) {
    if (typeof tag !== 'string' || !TAG_RE.test(tag)) {
      throw new InvalidArgumentError(field, `${field}: tag ${typeof tag === 'string' ? JSON.stringify(tag.slice(0, 70)) : describe(tag)} is not valid: use 1–64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`);
    }
  }
  return [...new Set(tags as string[])].sort();
}

/** The stored form of a canonical list (the `requires` column): the tags joined by commas; null for none. */
export function requiresText(tags: readonly string[]): string | null {
  return tags.length === 0 ? null : tags.join(',');
}

/** The tags of a stored `requires` value. */
export function requiresOf(text: string | null | undefined): string[] {
  return text ? text.split(',') : [];
}

/** Whether `offered` (a worker's tags) has every tag of `required` (a job's). */
export function covers(offered: readonly string[], required: readonly string[]): boolean {
  if (required.length === 0) return true;
  if (required.length > offered.length) return false;
  const have = new Set(offered);
  return required.every((t) => have.has(t));
}
