import type { Clock } from '../core/clock.ts';
import type { RateLimit } from '../core/queue-config.ts';
import type { RateBucket } from '../store/rate-bucket.ts';
import type { Store } from '../store/store.ts';
import type { Admitted, AdmissionRule } from './admission.ts';

/** The store's bucket of a queue's rate limit: its own (`queue:<name>`), or the shared limiter's (`limiter:<name>`). */
export function rateBucket(queue: string, limit: RateLimit): RateBucket {
  return { name: limit.limiter === null ? `queue:${queue}` : `limiter:${limit.limiter}`, rate: limit.rate, perMs: limit.perMs, burst: limit.burst };
}

/**
 * The rate limit as an admission rule: a claim takes as many tokens as it asks jobs for from the
 * queue's bucket in the store (one atomic take, so processes sharing the store never admit more
 * together than the bucket holds), is admitted that many, and gives back the tokens of jobs it
 * did not find. When it got fewer than it asked for, `retryAt` is when the next token is due.
 * A queue without a limit costs nothing: no store call.
 */
export function rateLimitRule(store: Store, clock: Clock): AdmissionRule {
  return {
    name: 'rate-limit',
    async admit(queue, want, state): Promise<number | Admitted> {
      const limit = state.config.rateLimit;
      if (!limit) return want;
      const bucket = rateBucket(queue, limit);
      const got = await store.rateLimitTake({ ...bucket, want, now: clock.now() });
      return {
        admitted: got.taken,
        retryAt: got.taken < want ? got.nextAt : null,
        settle: async (leased) => {
          if (leased < got.taken) await store.rateLimitGiveBack({ ...bucket, count: got.taken - leased });
        },
      };
    },
  };
}
