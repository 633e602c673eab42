import { describe } from 'node:test';
import { alertsSuite } from './alerts.ts';
import { boundedSuite } from './bounded.ts';
import { claimSuite } from './claim.ts';
import { concurrencySuite } from './concurrency.ts';
import { cronSuite } from './cron.ts';
import { delaysSuite } from './delays.ts';
import { drainedSuite } from './drained.ts';
import { encodingSuite } from './encoding.ts';
import { enqueueSuite } from './enqueue.ts';
import { fencingSuite } from './fencing.ts';
import { flowsSuite } from './flows.ts';
import { groupsSuite } from './groups.ts';
import { idempotencySuite } from './idempotency.ts';
import { jobFeaturesSuite } from './job-features.ts';
import type { HarnessTarget, StoreFactory } from './harness.ts';
import { leaseSuite } from './leases.ts';
import { operatorBulkSuite } from './operator-bulk.ts';
import { operatorSuite } from './operator.ts';
import { rateLimitsSuite } from './rate-limits.ts';
import { requestSuite } from './request.ts';
import { resourcesSuite } from './resources.ts';
import { keyRateLimitsSuite } from './key-rate-limits.ts';
import { policiesSuite } from './policies.ts';
import { settleSuite } from './settle.ts';
import { statsListSuite } from './stats-list.ts';
import { topicsSuite } from './topics.ts';
import { ttlSuite } from './ttl.ts';
import { uniqueSuite } from './unique.ts';
import { workerSuite } from './worker.ts';

export type { StoreFactory } from './harness.ts';

/** Options of {@link runStoreConformance}. */
export interface StoreConformanceOptions {
  /**
   * Also run every suite through a broker: a remote client (`Spool.connect`) of a real broker
   * on 127.0.0.1 serving the engine on this store. Default true. One driver of a kind is
   * enough to prove the wire; a second configuration of the same store may leave it out.
   */
  remote?: boolean;
}

function suites(target: HarnessTarget): void {
  enqueueSuite(target);
  delaysSuite(target);
  encodingSuite(target);
  claimSuite(target);
  settleSuite(target);
  leaseSuite(target);
  statsListSuite(target);
  groupsSuite(target);
  idempotencySuite(target);
  ttlSuite(target);
  rateLimitsSuite(target);
  keyRateLimitsSuite(target);
  drainedSuite(target);
  requestSuite(target);
  workerSuite(target);
  jobFeaturesSuite(target);
  fencingSuite(target);
  operatorSuite(target);
  operatorBulkSuite(target);
  alertsSuite(target);
  boundedSuite(target);
  policiesSuite(target);
  topicsSuite(target);
  uniqueSuite(target);
  concurrencySuite(target);
  resourcesSuite(target);
  cronSuite(target);
  flowsSuite(target);
}

/**
 * The API-level conformance suite: every semantic test of Spool against a store made by
 * `factory`, through the public contract both ways it is offered: the engine in this process
 * (`Spool.open`, with a manual clock) and a remote client of a broker serving that engine
 * (`Spool.connect`). Each driver's test file calls this once, beside `runDriverConformance`
 * (which calls the Store directly); a driver is done when both pass unchanged.
 * @example
 * import { runStoreConformance } from 'spool-queue/conformance';
 * runStoreConformance('sqlite', (options) => new SqliteStore({ ...options, path: tempFile() }));
 */
export function runStoreConformance(driver: string, factory: StoreFactory, options: StoreConformanceOptions = {}): void {
  describe(`store conformance: ${driver}`, () => {
    describe('in-process', () => suites({ factory, mode: 'in-process' }));
    if (options.remote !== false) describe('through a broker', () => suites({ factory, mode: 'remote' }));
  });
}
