import type { QueueState } from './queue-settings.ts';

/**
 * One rule every claim passes: how many of the `want` jobs a consumer asks for may be
 * leased from `queue` now. Pause is one today; rate limits, per-key concurrency and fair
 * share plug in here, so the claim path never grows a check of its own.
 */
export interface AdmissionRule {
  readonly name: string;
  admit(queue: string, want: number, state: QueueState): number | Promise<number>;
}

/** A paused queue admits nothing. */
export const pauseRule: AdmissionRule = {
  name: 'pause',
  admit: (_queue, want, state) => (state.paused ? 0 : want),
};

/** The rules of a claim, applied in order; each may only lower what the previous allowed. */
export class Admission {
  readonly #rules: readonly AdmissionRule[];

  constructor(rules: readonly AdmissionRule[] = [pauseRule]) {
    this.#rules = rules;
  }

  /** How many of `want` jobs may be claimed from `queue` now: 0 to `want`. */
  async admit(queue: string, want: number, state: QueueState): Promise<number> {
    let n = want;
    for (const rule of this.#rules) {
      if (n <= 0) return 0;
      const allowed = await rule.admit(queue, n, state);
      n = Math.min(n, Math.max(0, Math.floor(allowed)));
    }
    return n;
  }
}
