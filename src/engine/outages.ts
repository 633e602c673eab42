import type { Clock } from '../core/clock.ts';
import { StaleLeaseError, StoreUnavailableError } from '../core/errors.ts';
import type { Health } from '../core/health.ts';

const LOG_REPEAT_MS = 60_000;
/** After recovering from an outage, errors left over from dead connections are not news. */
export const OUTAGE_AFTERMATH_MS = 5000;

/**
 * Turns errors from background work into a few clear lines. A store outage changes
 * health once and is logged once, however many calls fail during it: only probes
 * (heartbeats, claims, maintenance) report one, and a probe that began before the
 * last recovery, or failed in the seconds after it, met a connection that died with
 * the old server — a leftover, not a new outage. Other errors go to `onError`,
 * rate-limited by default.
 */
export class OutageReporter {
  readonly #clock: Clock;
  readonly #health: Health;
  readonly #onError: (err: unknown, during: string) => void;
  readonly #customOnError: boolean;

  constructor(clock: Clock, health: Health, onError: ((err: unknown, during: string) => void) | undefined) {
    this.#clock = clock;
    this.#health = health;
    this.#onError = onError ?? rateLimitedConsoleError();
    this.#customOnError = onError !== undefined;
  }

  /** A probe of the store failed. `startedAt` is when the failed call began, if known. */
  probeFailed(err: unknown, during: string, startedAt?: number): void {
    if (!(err instanceof StoreUnavailableError)) return this.report(err, during);
    if (this.#isLeftover(startedAt)) return;
    if (this.#health.down(`${during}: ${err.message}`) && this.#customOnError) this.#onError(err, during);
  }

  /**
   * Any other background error. A stale lease is expected (the caller already acted on
   * it); a call that failed for want of the store (an ack, an extend) is not reported one by
   * one: if the store is really gone, the next probe reports the outage.
   */
  report(err: unknown, during: string): void {
    if (err instanceof StaleLeaseError || err instanceof StoreUnavailableError) return;
    this.#onError(err, during);
  }

  /**
   * A probe that began before the last recovery, or failed within OUTAGE_AFTERMATH_MS of it: a call
   * that began after the recovery can still meet a connection the old server left broken (a pooled
   * connection's first use, a server still finishing its restart). A store that is really gone
   * again is reported by the first probe after that window.
   */
  #isLeftover(startedAt: number | undefined): boolean {
    const recoveredAt = this.#health.recoveredAt;
    if (!this.#health.healthy || recoveredAt === null) return false;
    return (startedAt !== undefined && startedAt < recoveredAt) || this.#clock.now() - recoveredAt < OUTAGE_AFTERMATH_MS;
  }
}

/** Logs background errors without flooding: the first of each kind, then at most one a minute with a count. */
function rateLimitedConsoleError(): (err: unknown, during: string) => void {
  return rateLimited((err, during, suppressed) => {
    const more = suppressed ? ` (${suppressed} more like it since)` : '';
    console.error(`spool: error during ${during}: ${(err as Error)?.message ?? String(err)}${more}`);
  });
}

/**
 * Passes background errors on to `sink` without flooding: the first of each kind (what was
 * being done, and the error's code or class), then at most one a minute, with how many of
 * that kind were held back since the last one passed.
 */
export function rateLimited(sink: (err: unknown, during: string, suppressed: number) => void, now: () => number = Date.now): (err: unknown, during: string) => void {
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (err, during) => {
    const key = `${during}:${(err as { code?: string })?.code ?? (err as Error)?.name}`;
    const at = now();
    const s = seen.get(key);
    if (s && at - s.at < LOG_REPEAT_MS) {
      s.suppressed++;
      return;
    }
    seen.set(key, { at, suppressed: 0 });
    sink(err, during, s?.suppressed ?? 0);
  };
}
