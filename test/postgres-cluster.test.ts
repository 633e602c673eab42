import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import { waitFor } from '../src/store/conformance/worker.ts';
import { startFixture, type Child } from './support/child.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const JOBS = 50_000;
const HEARTBEAT_MS = 1000;
const CONCURRENCY = 32;

describe('many processes on one PostgreSQL (real processes, SIGKILL)', () => {
  it('4 workers and 2 producers, 50,000 jobs, one worker killed mid-run: every job completed, duplicates only from the killed worker', { timeout: 240_000 }, async (t) => {
    const url = testPgUrl();
    const schema = uniqueSchema('cluster');
    const parent = await Spool.open({ store: url, schema, maintenance: false });
    // A long visibility timeout: only heartbeats can explain a quick redelivery.
    await parent.queue('work').configure({ visibilityTimeoutMs: 120_000, maxStalls: 5 });

    // The worker to be killed spends most of its time inside handlers (200 ms a job), so it surely holds leases when killed.
    const workers: Child[] = Array.from({ length: 4 }, (_, i) =>
      startFixture('pg-worker.ts', [url, schema, 'work', String(CONCURRENCY), String(HEARTBEAT_MS), i === 0 ? '200' : '10']));
    await waitFor(() => workers.every((w) => w.lines.includes('ready')), 60_000, 'workers to start');
    const producers = [0, 1].map((i) => startFixture('pg-producer.ts', [url, schema, 'work', String(JOBS / 2), `p${i}`]));
    t.after(async () => {
      for (const c of [...workers, ...producers]) c.child.kill('SIGKILL');
      await parent.close();
    });

    const acked = (w: Child) => w.lines.filter((l) => l.startsWith('acked ')).length;
    const started = (w: Child) => w.lines.filter((l) => l.startsWith('start ')).length;
    // Killed while it runs handlers (a 200 ms job, so a few started and not acked now are still running at the kill).
    await waitFor(() => acked(workers[0]!) > 300 && workers.reduce((n, w) => n + acked(w), 0) > 10_000 && started(workers[0]!) - acked(workers[0]!) >= 8,
      120_000, 'the run to get going, the worker to be killed holding jobs');
    const victim = workers[0]!;
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;

    await Promise.all(producers.map((p) => p.exited));
    for (const p of producers) assert.ok(p.lines.includes('done'), `producer finished: ${p.stderr()}`);
    const addedIds = new Set(producers.flatMap((p) => p.lines.filter((l) => l.startsWith('added ')).map((l) => l.slice(6))));
    assert.equal(addedIds.size, JOBS, 'every add was acknowledged');

    await waitFor(async () => (await parent.queue('work').stats()).counts.completed === JOBS, 180_000, 'all jobs completed');
    const stats = await parent.queue('work').stats();
    assert.deepEqual(stats.counts, { scheduled: 0, ready: 0, active: 0, completed: JOBS, dead: 0, cancelled: 0 });

    // Who ran what: a job started in two places is a duplicate delivery.
    const startsById = new Map<string, { worker: number; attempt: number; at: number }[]>();
    workers.forEach((w, worker) => {
      for (const l of w.lines) {
        if (!l.startsWith('start ')) continue;
        const [, id, attempt, at] = l.split(' ');
        const list = startsById.get(id!) ?? [];
        list.push({ worker, attempt: Number(attempt), at: Number(at) });
        startsById.set(id!, list);
      }
    });
    const victimAcked = new Set(victim.lines.filter((l) => l.startsWith('acked ')).map((l) => l.slice(6)));
    const victimInFlight = new Set([...startsById].filter(([id, s]) => s.some((x) => x.worker === 0) && !victimAcked.has(id)).map(([id]) => id));
    assert.ok(victimInFlight.size > 0, 'the killed worker was holding jobs');
    const duplicates = [...startsById].filter(([, s]) => s.length > 1);
    for (const [id, s] of duplicates) {
      assert.ok(victimInFlight.has(id), `job ${id} ran twice but was not in flight in the killed worker: ${JSON.stringify(s)}`);
      assert.equal(s.length, 2, `job ${id} ran exactly twice`);
    }
    // No bound by CONCURRENCY: a slot is freed when its handler returns and the ack is group-committed in
    // the background, so a killed worker may also lose acks of handlers that had finished. Those jobs are
    // in flight in the sense above (started, "acked" never printed), which is what the loop checks.
    assert.ok(startsById.size === JOBS, 'every job ran');
    // Jobs the killed worker held were taken back by heartbeat, not by the 120 s visibility timeout.
    // (A job whose ack became durable just before the kill, but whose "acked" line was not written, is not redelivered.)
    const redelivered = [...victimInFlight].flatMap((id) => startsById.get(id)!.filter((x) => x.worker !== 0).map((x) => x.at));
    assert.ok(redelivered.length > 0, 'some jobs of the killed worker were redelivered');
    const slowest = Math.max(...redelivered) - killedAt;
    // When the leader took each lease back, as recorded in the job's history.
    const released = (await parent.store.jobsGet([...victimInFlight])).flatMap((j) => j!.history.filter((h) => h.outcome === 'expired').map((h) => h.endedAt));
    const releasedWithin = Math.max(...released) - killedAt;
    // Bounds far from the figures (about two heartbeat intervals) and far from the 120 s timeout, so that a
    // loaded machine cannot fail them and a take-back by the visibility timeout cannot pass them.
    assert.ok(releasedWithin < 60_000, `leases of the killed worker released by heartbeat loss, not the visibility timeout: ${releasedWithin} ms`);
    assert.ok(slowest < 60_000, `and redelivered long before the 120 s visibility timeout: ${slowest} ms`);
    console.log(`killed worker had ${victimInFlight.size} jobs in flight; ${duplicates.length} ran twice; leases released within ${releasedWithin} ms, redelivered within ${slowest} ms`);

    for (const w of workers.slice(1)) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
  });
});
