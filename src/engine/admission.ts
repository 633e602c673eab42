import type { QueueState } from './queue-settings.ts';

/**
 * What a rule admitted, when it says more than a number: `retryAt`, when it admitted fewer than
 * asked, is the time more may be admitted (clock ms; a rate limit's next token), so the engine
 * wakes the queue's consumers then instead of polling; `settle`, if given, is told how many
 * jobs the claim leased in the end, so a rule that reserved what it admitted (tokens) can give
 * back what went unused.
 */
export interface Admitted {
  admitted: number;
  retryAt?: number | null;
  settle?(leased: number): Promise<void> | void;
}

/**
 * One rule every claim passes: how many of the `want` jobs a consumer asks for may be
 * leased from `queue` now. Pause and rate limits are rules; per-key concurrency and fair
 * share plug in here, so the claim path never grows a check of its own.
 */
export interface AdmissionRule {
  readonly name: string;
  admit(queue: string, want: number, state: QueueState): number | Admitted | Promise<number | Admitted>;
}

/** A paused queue admits nothing. */
export const pauseRule: AdmissionRule = {
  name: 'pause',
  admit: (_queue, want, state) => (state.paused ? 0 : want),
};

/** What a claim may take: the jobs admitted, when more may be (null: no rule knows), and how to report what was leased. */
export interface AdmissionTicket {
  readonly admitted: number;
  /** Set when a rule held jobs back and knows when it will admit more; the engine wakes consumers then. */
  readonly retryAt: number | null;
  /** Tells every rule how many jobs the claim leased (0 if it did not reach the store). Call once. */
  settle(leased: number): Promise<void>;
}

/** The rules of a claim, applied in order; each may only lower what the previous allowed. */
export class Admission {
  readonly #rules: readonly AdmissionRule[];

  constructor(rules: readonly AdmissionRule[] = [pauseRule]) {
    this.#rules = rules;
  }

  /** How many of `want` jobs may be claimed from `queue` now: 0 to `want`, with when more may be. */
  async admit(queue: string, want: number, state: QueueState): Promise<AdmissionTicket> {
    let n = want;
    let retryAt: number | null = null;
    const settles: ((leased: number) => Promise<void> | void)[] = [];
    const ticket = (): AdmissionTicket => ({
      admitted: n,
      retryAt,
      settle: async (leased) => {
        if (settles.length === 0) return; // the common case: no rule reserved anything
        // Every rule hears the outcome, even when one fails to take its report.
        const results = await Promise.allSettled(settles.map((s) => s(Math.min(leased, n))));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
    });
    for (const rule of this.#rules) {
      if (n <= 0) return ticket();
      let allowed: number | Admitted;
      try {
        allowed = await rule.admit(queue, n, state);
      } catch (err) {
        await ticket().settle(0).catch(() => {}); // what earlier rules reserved goes back
        throw err;
      }
      const a = typeof allowed === 'number' ? { admitted: allowed } : allowed;
      const next = Math.min(n, Math.max(0, Math.floor(a.admitted)));
      if (a.settle) settles.push(a.settle);
      if (next < n && a.retryAt != null) retryAt = retryAt === null ? a.retryAt : Math.max(retryAt, a.retryAt);
      n = next;
    }
    return ticket();
  }
}
