/**
 * The queue settings `keyRateLimit` and `keyRateLimits`: a token bucket per job key (the job's
 * `concurrencyKey`), validated like `rateLimit` and with the same bounds (see docs/scheduling.md,
 * "Per-key rate limits").
 */
import { InvalidArgumentError } from './errors.ts';
import { checkLimit, describe, LIMITS } from './limits.ts';
import { checkOptionKeys } from './options.ts';

/** A key's bucket: up to `burst` tokens, `rate` more every `perMs`; every job of the key leased takes one. */
export interface KeyRateLimit {
  rate: number;
  perMs: number;
  burst: number;
}

/** What `keyRateLimit` (and each entry of `keyRateLimits`) takes: `rate` is required, the rest have defaults. */
export type KeyRateLimitInput = { rate: number; perMs?: number; burst?: number };

const KEY_RATE_LIMIT_KEYS = ['rate', 'perMs', 'burst'] as const;

/** A per-key rate limit as given (whole: fields left out take their defaults), or null for none. @throws InvalidArgumentError */
export function resolveKeyRateLimit(input: unknown, field = 'keyRateLimit'): KeyRateLimit | null {
  if (input === null) return null;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidArgumentError(field, `${field} must be an object like { rate: 10, perMs: 1000 }${field === 'keyRateLimit' ? ' or null for none' : ''} (got ${describe(input)})`);
  }
  checkOptionKeys(input, KEY_RATE_LIMIT_KEYS, 'queue.configure', `${field} setting`, `${field}.`);
  const r = input as Record<string, unknown>;
  if (r.rate === undefined) throw new InvalidArgumentError(`${field}.rate`, `${field}.rate is required: the jobs of a key admitted per perMs, e.g. { rate: 10, perMs: 1000 }`);
  const rate = checkLimit('rateLimitRate', r.rate, `${field}.rate`);
  const perMs = checkLimit('rateLimitPerMs', r.perMs, `${field}.perMs`);
  const burst = r.burst === undefined ? rate : checkLimit('rateLimitBurst', r.burst, `${field}.burst`);
  return { rate, perMs, burst };
}

/** `keyRateLimits`: an object of at most keyRateLimitsMax keys (each a valid concurrency key), each a per-key rate limit. @throws InvalidArgumentError */
export function checkKeyRateLimits(value: unknown): Record<string, KeyRateLimit> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError('keyRateLimits', `keyRateLimits must be an object of key → rate limit, like { 'tenant-a': { rate: 5 } } (got ${describe(value)})`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const max = LIMITS.keyRateLimitsMax.max;
  if (entries.length > max) throw new InvalidArgumentError('keyRateLimits', `keyRateLimits may name at most ${max} keys (got ${entries.length})`);
  const out: Record<string, KeyRateLimit> = {};
  for (const [key, limit] of entries) {
    if (key.length < 1 || key.length > 128 || key.includes('\0') || !key.isWellFormed()) {
      throw new InvalidArgumentError('keyRateLimits', `keyRateLimits: ${describe(key)} is not a concurrency key (1–128 characters of well-formed text without U+0000)`);
    }
    const field = `keyRateLimits[${JSON.stringify(key)}]`;
    if (limit === null) throw new InvalidArgumentError(field, `${field} must be a rate limit like { rate: 5 } (leave the key out for the queue's keyRateLimit)`);
    out[key] = resolveKeyRateLimit(limit, field)!;
  }
  return out;
}
