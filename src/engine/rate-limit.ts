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
 *
 * Tokens given back may be what another queue of the same limiter was refused a moment before
 * (it took while they were out): `wake` is called for the queues of this process that were held
 * on that bucket, so they take them now rather than at the next token.
 */
export function rateLimitRule(store: Store, clock: Clock, wake: (queue: string) => void): AdmissionRule {
  /** Per bucket, the queues of this process refused tokens since the bucket last gave some back. */
  const refused = new Map<string, Set<string>>();
  return {
    name: 'rate-limit',
    async admit(queue, want, state): Promise<number | Admitted> {
      const limit = state.config.rateLimit;
      if (!limit) return want;
      const bucket = rateBucket(queue, limit);
      const got = await store.rateLimitTake({ ...bucket, want, now: clock.now() });
      if (got.taken < want && limit.limiter !== null) {
        let queues = refused.get(bucket.name);
        if (!queues) refused.set(bucket.name, (queues = new Set()));
        queues.add(queue);
      }
      return {
        admitted: got.taken,
        retryAt: got.taken < want ? got.nextAt : null,
        settle: async (leased) => {
          if (leased >= got.taken) return;
          await store.rateLimitGiveBack({ ...bucket, count: got.taken - leased, since: got.at });
          const queues = refused.get(bucket.name);
          refused.delete(bucket.name);
          for (const q of queues ?? []) if (q !== queue) wake(q);
        },
      };
    },
  };
}
