import { describe } from 'node:test';
import { claimArea } from './jobs-claim.ts';
import { orderArea } from './jobs-order.ts';
import { clusterArea } from './cluster.ts';
import { errorsArea } from './errors.ts';
import { DriverContext, probeDriver } from './harness.ts';
import { insertArea } from './jobs-insert.ts';
import { boundedArea } from './jobs-bounded.ts';
import { listArea } from './jobs-list.ts';
import { searchArea } from './jobs-search.ts';
import { migrationsArea } from './migrations.ts';
import { notifyArea } from './notify.ts';
import { processSnapshotsArea } from './process-snapshots.ts';
import { operatorArea } from './jobs-operator.ts';
import { queuesArea } from './queues.ts';
import { rateLimitsArea } from './rate-limits.ts';
import { claimPathsArea } from './claim-paths.ts';
import { routingArea } from './routing.ts';
import { flowsArea } from './flows.ts';
import { reportArea } from './jobs-report.ts';
import { settleArea } from './jobs-settle.ts';
import { tokensArea } from './tokens.ts';
import { traceArea } from './jobs-trace.ts';
import { groupArea } from './jobs-group.ts';
import type { DriverConformanceOptions, DriverFactory } from './types.ts';
import { upkeepArea } from './jobs-upkeep.ts';
import { uniqueArea } from './jobs-unique.ts';
import { schedulesArea } from './schedules.ts';

/**
 * The driver-level conformance suite: calls a Store directly (no engine) and checks each
 * method's effects and result shapes, with every `now` a fixed number. Before defining its
 * tests it opens one store to see which optional methods and capabilities the driver has;
 * the tests of what it lacks, and of the areas it declares unsupported, are reported as
 * skipped with the reason.
 * @example
 * runDriverConformance('sqlite file', {
 *   create: () => {
 *     const path = join(dir, `t${n++}.db`);
 *     return { shared: true, open: () => new SqliteStore({ path }) };
 *   },
 * }, { skip: { areas: ['closed-error'], reason: 'reads after close reject with the database error' } });
 */
export function runDriverConformance(name: string, factory: DriverFactory, options: DriverConformanceOptions = {}): void {
  describe(`driver conformance: ${name}`, async () => {
    const ctx = new DriverContext(factory, await probeDriver(factory), options);
    insertArea(ctx);
    claimArea(ctx);
    orderArea(ctx);
    settleArea(ctx);
    reportArea(ctx);
    traceArea(ctx);
    groupArea(ctx);
    operatorArea(ctx);
    upkeepArea(ctx);
    listArea(ctx);
    searchArea(ctx);
    queuesArea(ctx);
    tokensArea(ctx);
    clusterArea(ctx);
    processSnapshotsArea(ctx);
    rateLimitsArea(ctx);
    claimPathsArea(ctx);
    routingArea(ctx);
    notifyArea(ctx);
    migrationsArea(ctx);
    errorsArea(ctx);
    boundedArea(ctx);
    uniqueArea(ctx);
    schedulesArea(ctx);
    flowsArea(ctx);
  });
}
