import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TargetContext } from '../target.ts';
import { createTarget, skipReason } from '../targets/index.ts';
import { QUEUE_SETTING_RUNS } from './catalog.ts';
import { DRAIN_VARIANTS, drainBacklog, fillBacklog, type DrainVariant } from './drain.ts';
import type { RunContext } from './run-context.ts';

/** Fills 300 jobs under `variant` on a fresh embedded target, then returns the payload numbers in the order one worker started them. */
async function startOrder(variant: DrainVariant, jobs = 300): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-bench-test-'));
  const targetContext: TargetContext = { dataDir };
  const target = createTarget('spool-embedded', targetContext);
  const ctx: RunContext = { target, targetId: 'spool-embedded', targetContext, options: { postgresUrl: null, w7Seconds: 1, cpuProfDir: null, runLabel: 'test' }, log: () => {} };
  try {
    await target.setup();
    await fillBacklog(ctx, jobs, variant);
    const order: number[] = [];
    const worker = await target.startWorker({ concurrency: 1, onStart: (p) => void order.push(p.n) });
    await worker.waitCompleted(jobs);
    await worker.close();
    return order;
  } finally {
    await target.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('every W3 variant of the catalog has its queue settings, and only the Spool targets run it', () => {
  assert.deepEqual(Object.keys(DRAIN_VARIANTS), QUEUE_SETTING_RUNS.map((r) => r.run));
  for (const { run } of QUEUE_SETTING_RUNS) {
    for (const id of ['spool-embedded', 'spool-server', 'spool-postgres'] as const) assert.equal(skipReason(id, run), null, `${id} ${run}`);
    for (const id of ['bullmq', 'pg-boss', 'rabbitmq', 'nats'] as const) assert.notEqual(skipReason(id, run), null, `${id} ${run}`);
  }
});

test('W3-priority: the queue serves the highest of its three levels first', { timeout: 30_000 }, async () => {
  const order = await startOrder(DRAIN_VARIANTS['W3-priority']);
  assert.deepEqual(order.slice(0, 100).map((n) => n % 3), new Array(100).fill(2));
  assert.deepEqual(order.slice(200).map((n) => n % 3), new Array(100).fill(0));
});

test('W3-sjf: the queue serves the cheapest first', { timeout: 30_000 }, async () => {
  const order = await startOrder(DRAIN_VARIANTS['W3-sjf']);
  const costs = order.map((n) => DRAIN_VARIANTS['W3-sjf'].job({ user: 0, action: '', to: '', n }).cost);
  assert.deepEqual(costs, [...costs].sort((a, b) => a - b));
  assert.notDeepEqual(order, [...order].sort((a, b) => a - b), 'not the add order');
});

test('W3-fair: the ten groups take turns', { timeout: 30_000 }, async () => {
  const order = await startOrder(DRAIN_VARIANTS['W3-fair']);
  for (let round = 0; round < 30; round++) {
    assert.equal(new Set(order.slice(round * 10, round * 10 + 10).map((n) => n % 10)).size, 10, `round ${round}`);
  }
});

test('W3-keyed: ten keys under a limit that does not bind: served in add order, the whole backlog drained', { timeout: 30_000 }, async () => {
  const keys = new Set([...Array(300).keys()].map((n) => DRAIN_VARIANTS['W3-keyed'].job({ user: 0, action: '', to: '', n }).concurrencyKey));
  assert.equal(keys.size, 10);
  assert.deepEqual(await startOrder(DRAIN_VARIANTS['W3-keyed']), [...Array(300).keys()]);
});

test('W3-rate: a limit far above the drain rate lets the whole backlog through', { timeout: 30_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-bench-test-'));
  const targetContext: TargetContext = { dataDir };
  const target = createTarget('spool-embedded', targetContext);
  const ctx: RunContext = { target, targetId: 'spool-embedded', targetContext, options: { postgresUrl: null, w7Seconds: 1, cpuProfDir: null, runLabel: 'test' }, log: () => {} };
  try {
    await target.setup();
    const r = await drainBacklog(ctx, 500, 64, DRAIN_VARIANTS['W3-rate']);
    assert.ok(r.jobsPerS > 0);
  } finally {
    await target.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
