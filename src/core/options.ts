import { InvalidArgumentError } from './errors.ts';
import { describe } from './limits.ts';

/** The settings stored with a queue (`spool.queue(name).configure({ ... })`), never options of a call. */
export const QUEUE_SETTING_KEYS = ['visibilityTimeoutMs', 'maxAttempts', 'maxStalls', 'backoff', 'timeoutMs', 'rateLimit', 'maxLength', 'overflow', 'policy', 'agingMs', 'sjfCostFactor', 'sjfLearnPct', 'fairWeights', 'concurrencyLimit', 'concurrencyLimits', 'groupFifo', 'keyRateLimit', 'keyRateLimits', 'labels'] as const;

/**
 * Refuses an options argument that is not a plain object (undefined is fine: no options), or that
 * has a key outside `known`, so a typo is an error instead of a setting silently left at its default.
 * The message names the key and the nearest valid one, or where a queue setting is set, e.g.
 * `Spool.open: unknown option "pollIntervallMs"; did you mean "pollIntervalMs"?`.
 * @param what the call, for the message: `Spool.open`, `startBroker`, …
 * @param noun what the keys are, for the message: `option` (default), `queue setting`, …
 * @param fieldPrefix put before the key in the error's `field`, for a nested object (`backoff.`).
 * @throws InvalidArgumentError whose `field` is the unknown key (or `options`).
 */
export function checkOptionKeys(options: unknown, known: readonly string[], what: string, noun = 'option', fieldPrefix = ''): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(fieldPrefix.replace(/\.$/, '') || 'options', `${what}: ${noun}s must be an object (got ${describe(options)})`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = nearest(key, known);
    const hint = (QUEUE_SETTING_KEYS as readonly string[]).includes(key) ? `it is a queue setting: set it with spool.queue(name).configure({ ${key} })`
      : near !== null ? `did you mean ${JSON.stringify(near)}?`
      : `valid ${noun}s: ${known.join(', ')}`;
    throw new InvalidArgumentError(fieldPrefix + key, `${what}: unknown ${noun} ${JSON.stringify(key)}; ${hint}`);
  }
}

/**
 * The candidate closest to `word` by edit distance (case-insensitive, a swap of two neighbours
 * counting as one edit), if close enough to be a likely typo: at most max(2, a third of the word's
 * length) edits, or the candidate starts with the word (`visibility` → `visibilityTimeoutMs`).
 */
export function nearest(word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(w.length / 3)) + 1;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    const d = w.length >= 4 && c.startsWith(w) ? 1 : editDistance(w, c);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Damerau–Levenshtein distance (optimal string alignment): insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    [before, previous] = [previous, row];
  }
  return previous[b.length]!;
}

/**
 * Checks the type of an option that is not a number (numbers are checked by `checkLimit`); undefined passes.
 * @throws InvalidArgumentError naming the field and the expected type.
 */
export function checkOptionType(value: unknown, field: string, type: 'string' | 'boolean' | 'function' | 'object'): void {
  if (value === undefined) return;
  if (type === 'object' ? typeof value !== 'object' || value === null || Array.isArray(value) : typeof value !== type) {
    throw new InvalidArgumentError(field, `${field} must be ${type === 'object' ? 'an' : 'a'} ${type} (got ${describe(value)})`);
  }
}
