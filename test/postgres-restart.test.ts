import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import { waitFor } from '../src/store/conformance/worker.ts';
import { startFixture } from './support/child.ts';
import { startTestPostgres } from './support/postgres.ts';
import { uniqueSchema } from './support/pg-url.ts';

describe('PostgreSQL stopped and restarted mid-run', () => {
  it('every process reconnects by itself, no acknowledged job is lost, and the outage is reported once', { timeout: 180_000 }, async (t) => {
    // A server of this test's own, since it gets stopped.
    const pg = await startTestPostgres();
    const schema = uniqueSchema('restart');
    const setup = await Spool.open({ store: pg.url, schema, maintenance: false });
    await setup.queue('work').configure({ visibilityTimeoutMs: 5000 });
    await setup.close();

    const worker = startFixture('pg-worker.ts', [pg.url, schema, 'work', '32', '300', '0']);
    const producer = startFixture('pg-producer.ts', [pg.url, schema, 'work', '30000', 'p']);
    t.after(async () => {
      worker.child.kill('SIGKILL');
      producer.child.kill('SIGKILL');
      await pg.destroy();
    });
    const count = (prefix: string, c: typeof worker) => c.lines.filter((l) => l.startsWith(prefix)).length;
    await waitFor(() => count('acked ', worker) > 500 && count('added ', producer) > 2000, 60_000, 'work before the outage');
    const t0 = Date.now();

    await pg.stop();
    const addsAtStop = count('added ', producer);
    await new Promise((r) => setTimeout(r, 2000));
    assert.ok(count('added ', producer) - addsAtStop < 40, 'no adds are acknowledged while the database is down');
    await waitFor(() => worker.lines.includes('health false'), 10_000, `the worker to report itself unhealthy (stderr: ${worker.stderr()}; last lines: ${worker.lines.slice(-3).join(' | ')})`);
    await pg.restart();
    const restartedAt = Date.now();
    assert.ok(restartedAt - t0 >= 2000, 'the database was down for two seconds');

    const addsAtRestart = count('added ', producer);
    await waitFor(() => count('added ', producer) > addsAtRestart + 100, 60_000, 'adds after the restart');
    await waitFor(() => worker.lines.includes('health true'), 30_000, 'the worker to report itself healthy again');
    await waitFor(() => worker.lines.some((l) => l.startsWith('health-at true')), 1000, 'the time of recovery');
    const healthyAt = Number(worker.lines.find((l) => l.startsWith('health-at true'))!.split(' ')[2]);
    assert.ok(healthyAt - restartedAt < 5000, `the worker is back within seconds of the restart (${healthyAt - restartedAt} ms)`);
    await waitFor(() => producer.lines.includes('done'), 60_000, `the producer to finish (${count('added ', producer)} added; ${producer.stderr()})`);
    assert.ok(producer.lines.includes('done'), `the producer finished its 30,000 adds: ${producer.stderr()}`);

    // Every acknowledged add is in the database and gets completed by the worker, which reconnected by itself.
    const added = producer.lines.filter((l) => l.startsWith('added ')).map((l) => l.slice(6));
    const check = await Spool.open({ store: pg.url, schema, maintenance: false });
    t.after(() => check.close());
    try {
      await waitFor(async () => (await check.queue('work').stats()).counts.completed >= added.length, 60_000, 'the worker to finish every added job');
    } catch (err) {
      const stats = await check.queue('work').stats();
      throw new Error(`${(err as Error).message}: ${added.length} added, counts ${JSON.stringify(stats.counts)}; worker's last lines: ${worker.lines.slice(-5).join(' | ')}; stderr: ${worker.stderr()}`);
    }
    const jobs = await check.store.jobsGet(added);
    const missing = added.filter((_, i) => jobs[i] === null);
    assert.deepEqual(missing, [], 'acknowledged adds lost');

    // The outage is a few clear lines, not a stack-trace flood.
    for (const [name, c] of [['worker', worker], ['producer', producer]] as const) {
      const lines = c.stderr().split('\n').filter(Boolean);
      assert.ok(lines.length <= 4, `${name} wrote ${lines.length} lines to stderr:\n${c.stderr()}`);
      assert.ok(!/^\s+at /m.test(c.stderr()), `${name} printed a stack trace:\n${c.stderr()}`);
    }
    assert.equal(worker.lines.filter((l) => l === 'health false').length, 1, `one transition to unhealthy; stderr:\n${worker.stderr()}`);
  });
});
