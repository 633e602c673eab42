import type { ClaimParams } from '../store/store.ts';
import type { QueueState } from './queue-settings.ts';

/** What rules may add to a claim: limits the store applies in the claim's own transaction (rate limits). */
export type ClaimLimits = Pick<ClaimParams, 'rate' | 'keyRate'>;

/**
 * What a rule admitted, when it says more than a number: `claim`, limits the store enforces in
 * the claim itself (a rate limit's bucket: the store leases at most its whole tokens and takes
 * them in the same transaction, so no rule reserves anything and nothing goes back).
 */
export interface Admitted {
  admitted: number;
  claim?: ClaimLimits;
}

/**
 * One rule every claim passes: how many of the `want` jobs a consumer asks for may be leased
 * from `queue` now, and what the store must check as it leases them. Pause is a rule that
 * admits nothing; rate limits contribute their buckets. A rule never calls the store itself:
 * what it needs checked atomically with the lease goes into the claim.
 */
export interface AdmissionRule {
  readonly name: string;
  admit(queue: string, want: number, state: QueueState): number | Admitted;
}

/** A paused queue admits nothing. */
export const pauseRule: AdmissionRule = {
  name: 'pause',
  admit: (_queue, want, state) => (state.paused ? 0 : want),
};

/** What a claim may take: the jobs admitted, and the limits the store applies as it leases them. */
export interface AdmissionTicket {
  readonly admitted: number;
  readonly claim: ClaimLimits;
}

/** The rules of a claim, applied in order; each may only lower what the previous allowed, and add limits. */
export class Admission {
  readonly #rules: readonly AdmissionRule[];

  constructor(rules: readonly AdmissionRule[] = [pauseRule]) {
    this.#rules = rules;
  }

  /** How many of `want` jobs may be claimed from `queue` now (0 to `want`), and under what limits. */
  admit(queue: string, want: number, state: QueueState): AdmissionTicket {
    let n = want;
    let claim: ClaimLimits = {};
    for (const rule of this.#rules) {
      if (n <= 0) break;
      const allowed = rule.admit(queue, n, state);
      const a = typeof allowed === 'number' ? { admitted: allowed } : allowed;
      n = Math.min(n, Math.max(0, Math.floor(a.admitted)));
      if (a.claim) claim = { ...claim, ...a.claim };
    }
    return { admitted: Math.max(0, n), claim };
  }
}
