import type { KeyRateLimit, QueueConfig, RateLimit } from '../core/queue-config.ts';
import type { KeyRateRule, RateBucket } from '../store/rate-bucket.ts';
import type { AdmissionRule } from './admission.ts';

/** The store's bucket of a queue's rate limit: its own (`queue:<name>`), or the shared limiter's (`limiter:<name>`). */
export function rateBucket(queue: string, limit: RateLimit): RateBucket {
  return { name: limit.limiter === null ? `queue:${queue}` : `limiter:${limit.limiter}`, rate: limit.rate, perMs: limit.perMs, burst: limit.burst };
}

/** The per-key rate limits of a queue's settings, or null when it has none. */
export function keyRateRuleOf(config: QueueConfig): KeyRateRule | null {
  const limits = config.keyRateLimits ?? {};
  const limit = config.keyRateLimit ?? null;
  if (limit === null && Object.keys(limits).length === 0) return null;
  const params = (l: KeyRateLimit) => ({ rate: l.rate, perMs: l.perMs, burst: l.burst });
  return { limit: limit && params(limit), limits: Object.fromEntries(Object.entries(limits).map(([k, l]) => [k, params(l)])) };
}

/**
 * The rate limits as an admission rule: it admits what it is asked and gives the claim the
 * queue's bucket (and its keys' rule), which the store reads and charges in the claim's own
 * transaction, so processes sharing the store never start more together than the bucket holds,
 * and no token is ever taken for a job that was not leased. A queue without a limit adds nothing.
 */
export const rateLimitRule: AdmissionRule = {
  name: 'rate-limit',
  admit(queue, want, state) {
    const limit = state.config.rateLimit;
    const keyRate = keyRateRuleOf(state.config);
    if (!limit && !keyRate) return want;
    return { admitted: want, claim: { ...(limit ? { rate: rateBucket(queue, limit) } : {}), ...(keyRate ? { keyRate } : {}) } };
  },
};
