import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TargetContext } from '../target.ts';
import { idleConnectionsRss } from '../workloads/connections.ts';
import { drainBacklog } from '../workloads/drain.ts';
import { enqueueSingle } from '../workloads/enqueue.ts';
import { addToStartLatency } from '../workloads/latency.ts';
import type { RunContext } from '../workloads/run-context.ts';
import { createTarget } from './index.ts';

// A smoke run of the spool-server deployment on a few hundred jobs: the broker
// process, the client in this process, a W4 worker process and C1000's idle
// connection processes, with the checks the workloads make themselves.
test('spool-server: a broker process and its clients run the workloads in miniature', { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-bench-test-'));
  const targetContext: TargetContext = { dataDir };
  const target = createTarget('spool-server', targetContext);
  const lines: string[] = [];
  const ctx: RunContext = {
    target,
    targetId: 'spool-server',
    targetContext,
    options: { postgresUrl: null, w7Seconds: 1, cpuProfDir: null, runLabel: 'spool-server-test' },
    log: (line) => void lines.push(line),
  };
  let brokerPid = 0;
  try {
    await target.setup();
    assert.equal(target.durability(), 'fsync on commit');
    brokerPid = Number(target.attachSpec!().brokerPid);
    assert.notEqual(brokerPid, process.pid);

    // W2's bulk adds fill, W3's worker drains; W6 samples the broker's memory meanwhile.
    const drain = await drainBacklog(ctx, 500, 64);
    assert.ok(drain.jobsPerS > 0);
    assert.ok(drain.peakRssMiB > 20 && drain.peakRssMiB < 1024, `broker peak RSS ${drain.peakRssMiB} MiB`);

    // W4 across processes: this process adds, a worker process measures add→handler-start.
    const w4 = await addToStartLatency(ctx, 200, 1_000, 16);
    assert.ok(w4['W4-p50']! > 0 && w4['W4-p50']! <= w4['W4-p99']! && w4['W4-p99']! <= w4['W4-max']!, JSON.stringify(w4));

    const w1 = await enqueueSingle(ctx, 300, 16);
    assert.ok(w1.W1! > 0);

    // C1000 in miniature: 2 processes × 10 idle sessions.
    const c = await idleConnectionsRss(ctx, 20, 2, 300);
    assert.ok(c['C1000-rss']! > 20, JSON.stringify(c));
    assert.match(lines.join('\n'), /20 idle sessions from 2 processes/);
  } finally {
    await target.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  }
  // The broker stopped with the target.
  assert.throws(() => process.kill(brokerPid, 0), { code: 'ESRCH' });
});
