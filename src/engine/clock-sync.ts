import { CLOCK_READING_MAX_RTT_MS, firstOffset, readOffset, sharedClock, type SharedClock } from '../core/shared-clock.ts';
import type { Store } from '../store/store.ts';

/** How often a process on a shared store reads the store server's clock. */
export const CLOCK_SYNC_INTERVAL_MS = 1000;

/**
 * Keeps a process's time on the store server's clock (see src/core/shared-clock.ts): one reading
 * at open, then one every {@link CLOCK_SYNC_INTERVAL_MS}. A reading that fails (the database is
 * down: the claims and adds report that), took longer than {@link CLOCK_READING_MAX_RTT_MS} or
 * straddled a step of the machine's clock is skipped; the last good offset stays in use.
 */
export class ClockSync {
  readonly clock: SharedClock;
  readonly #reference: () => Promise<number>;
  #timer: NodeJS.Timeout | null = null;
  #reading: Promise<void> | null = null;

  private constructor(clock: SharedClock, reference: () => Promise<number>) {
    this.clock = clock;
    this.#reference = reference;
  }

  /** For a store with a server clock: the clock set by a first reading, kept in sync from now on. Null for a store without. */
  static async start(store: Store): Promise<ClockSync | null> {
    if (!store.storeTime) return null;
    const reference = () => store.storeTime!();
    const sync = new ClockSync(sharedClock((await firstOffset(reference)) ?? 0), reference);
    sync.#timer = setInterval(() => {
      sync.#reading ??= sync.#read().finally(() => (sync.#reading = null));
    }, CLOCK_SYNC_INTERVAL_MS);
    sync.#timer.unref();
    return sync;
  }

  async #read(): Promise<void> {
    try {
      const r = await readOffset(this.#reference);
      if (r && r.rttMs <= CLOCK_READING_MAX_RTT_MS) this.clock.reference(r.offsetMs);
    } catch {
      // the store is unreachable: what needs it reports that; time carries on from the last reading
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#reading;
  }
}
