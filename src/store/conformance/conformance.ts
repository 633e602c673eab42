import { describe } from 'node:test';
import { claimSuite } from './claim.ts';
import { encodingSuite } from './encoding.ts';
import { enqueueSuite } from './enqueue.ts';
import { fencingSuite } from './fencing.ts';
import type { StoreFactory } from './harness.ts';
import { leaseSuite } from './leases.ts';
import { settleSuite } from './settle.ts';
import { statsListSuite } from './stats-list.ts';
import { tokensSuite } from './tokens.ts';
import { workerSuite } from './worker.ts';

export type { StoreFactory } from './harness.ts';

/**
 * The store conformance suite: every semantic test of Spool, run through the
 * engine against a store made by `factory`. Each driver's test file calls this
 * once; a driver is done when the whole suite passes unchanged.
 * @example
 * runStoreConformance('sqlite', () => new SqliteStore({ path: tempFile() }));
 */
export function runStoreConformance(driver: string, factory: StoreFactory): void {
  describe(`store conformance: ${driver}`, () => {
    enqueueSuite(factory);
    encodingSuite(factory);
    claimSuite(factory);
    settleSuite(factory);
    leaseSuite(factory);
    statsListSuite(factory);
    workerSuite(factory);
    fencingSuite(factory);
    tokensSuite(factory);
  });
}
