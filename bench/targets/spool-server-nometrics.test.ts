import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { drainBacklog } from '../workloads/drain.ts';
import type { RunContext } from '../workloads/run-context.ts';
import { createTarget, type TargetId } from './index.ts';

// The metrics comparison's two sides: spool-server's broker serves /metrics, the variant's does
// not, and the variant runs a workload as spool-server does.
for (const [id, status] of [['spool-server', 200], ['spool-server-nometrics', 404]] as [TargetId, number][]) {
  test(`${id}: GET /metrics answers ${status}, and a drain runs`, { timeout: 60_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-bench-test-'));
    const target = createTarget(id, { dataDir });
    const ctx: RunContext = {
      target, targetId: id, targetContext: { dataDir },
      options: { postgresUrl: null, w7Seconds: 1, cpuProfDir: null, runLabel: `${id}-test` },
      log: () => {},
    };
    try {
      await target.setup();
      assert.equal(target.durability(), 'fsync on commit');
      const http = target.attachSpec!().wsUrl!.replace(/^ws/, 'http').replace(/\/v1\/ws$/, '');
      assert.equal((await fetch(`${http}/metrics`)).status, status);
      assert.ok((await drainBacklog(ctx, 200, 16)).jobsPerS > 0);
    } finally {
      await target.teardown();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
