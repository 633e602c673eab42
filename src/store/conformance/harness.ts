import { ManualClock } from '../../core/clock.ts';
import { Spool, type OpenOptions } from '../../engine/spool.ts';
import type { Store } from '../store.ts';

/** Store settings a test may ask the factory for. */
export interface StoreTestOptions {
  historyMax?: number;
}

/**
 * Makes a fresh, empty store for one test of the API-level suite (`runStoreConformance`),
 * honouring the settings the test asks for.
 * @example
 * const factory: StoreFactory = (options) => openPostgresStore({ ...options, url, schema: uniqueSchema() });
 */
export type StoreFactory = (options: StoreTestOptions) => Promise<Store> | Store;

export interface Harness {
  spool: Spool;
  clock: ManualClock;
  store: Store;
}

/**
 * Opens a Spool on a fresh store with a manual clock and deterministic jitter.
 * Background maintenance runs only when the test moves the clock.
 */
export async function openHarness(factory: StoreFactory, options: Omit<OpenOptions, 'store' | 'clock'> = {}, storeOptions: StoreTestOptions = {}): Promise<Harness> {
  const clock = new ManualClock();
  const store = await factory(storeOptions);
  const spool = await Spool.open({ store, clock, random: () => 0.5, onError: () => {}, ...options });
  return { spool, clock, store };
}

/** Runs `fn` with a fresh harness and always closes it. */
export async function withHarness(
  factory: StoreFactory,
  fn: (h: Harness) => Promise<void>,
  options: Omit<OpenOptions, 'store' | 'clock'> = {},
  storeOptions: StoreTestOptions = {},
): Promise<void> {
  const h = await openHarness(factory, options, storeOptions);
  try {
    await fn(h);
  } finally {
    await h.spool.close();
  }
}
