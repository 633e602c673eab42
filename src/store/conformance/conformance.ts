import { describe } from 'node:test';
import { claimSuite } from './claim.ts';
import { encodingSuite } from './encoding.ts';
import { enqueueSuite } from './enqueue.ts';
import { fencingSuite } from './fencing.ts';
import type { StoreFactory } from './harness.ts';
import { leaseSuite } from './leases.ts';
import { operatorSuite } from './operator.ts';
import { settleSuite } from './settle.ts';
import { statsListSuite } from './stats-list.ts';
import { workerSuite } from './worker.ts';

export type { StoreFactory } from './harness.ts';

/**
 * The API-level conformance suite: every semantic test of Spool, run through the
 * engine (a Spool with a manual clock) against a store made by `factory`. Each
 * driver's test file calls this once, beside `runDriverConformance` (which
 * calls the Store directly); a driver is done when both pass unchanged.
 * @example
 * import { runStoreConformance } from 'spool-queue/conformance';
 * runStoreConformance('sqlite', (options) => new SqliteStore({ ...options, path: tempFile() }));
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
    operatorSuite(factory);
  });
}
