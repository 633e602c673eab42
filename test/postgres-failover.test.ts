// A real PostgreSQL failover under load: a primary with a synchronous standby, the primary's
// postmaster SIGKILLed while a producer and a worker (child processes, given the multi-host
// URL) run, the standby promoted. Clients must find the new primary by themselves, lose no
// acknowledged add, and maintenance (leadership, dead-worker detection) must carry on there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import { waitFor } from '../src/store/conformance/worker.ts';
import { startFixture, type Child } from './support/child.ts';
import { queryOnce, startReplicatedPostgres } from './support/pg-replicated.ts';
import { uniqueSchema } from './support/pg-url.ts';

const count = (prefix: string, c: Child) => c.lines.filter((l) => l.startsWith(prefix)).length;

describe('PostgreSQL primary failover to a synchronous standby', () => {
  it('clients move to the promoted standby by themselves, no acknowledged add is lost, maintenance carries on', { timeout: 180_000 }, async (t) => {
    const pg = await startReplicatedPostgres();
    const children: Child[] = [];
    t.after(async () => {
      for (const c of children) c.child.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await pg.destroy();
    });
    const start = (script: string, args: string[]) => {
      const c = startFixture(script, args);
      children.push(c);
      return c;
    };
    const schema = uniqueSchema('failover');
    const setup = await Spool.open({ store: pg.url, schema, maintenance: false });
    await setup.queue('work').configure({ visibilityTimeoutMs: 5000 });
    // Far longer than the test: a job of a killed worker comes back only through dead-worker detection.
    await setup.queue('victim').configure({ visibilityTimeoutMs: 600_000 });
    await setup.close();

    const worker = start('pg-worker.ts', [pg.url, schema, 'work', '32', '300', '0']);
    const producer = start('pg-producer.ts', [pg.url, schema, 'work', '12000', 'p']);
    await waitFor(() => count('acked ', worker) > 300 && count('added ', producer) > 1000, 60_000, `work before the failover (producer: ${producer.stderr()}; worker: ${worker.stderr()})`);

    // The primary dies under load; the standby is promoted at once.
    await pg.kill(pg.primary);
    const addsAtKill = count('added ', producer);
    assert.ok(addsAtKill < 12000, 'the producer is still adding when the primary dies');
    const promoting = Date.now();
    await pg.promote();
    const promoted = Date.now();
    await waitFor(() => count('added ', producer) > addsAtKill, 60_000, `the first add on the new primary (producer: ${producer.stderr()})`);
    const firstAdd = Date.now();
    const recoveryMs = firstAdd - promoting;
    process.stdout.write(`# failover: pg_ctl promote took ${promoted - promoting} ms; first confirmed add ${recoveryMs} ms after the promotion began\n`);
    t.diagnostic(`first confirmed add ${recoveryMs} ms after pg_ctl promote began (promote itself: ${promoted - promoting} ms)`);
    assert.ok(recoveryMs < 60_000, `adds resume within a minute of the promotion (${recoveryMs} ms)`);
    await waitFor(() => count('acked ', worker) > 0 && worker.lines.lastIndexOf('health true') >= worker.lines.lastIndexOf('health false'), 60_000, `the worker to be healthy again (${worker.stderr()})`);

    // Leadership is renewed on the new primary (the old one is dead, so this row lives on the promoted standby).
    const standbyUrl = pg.urlOf(pg.standby);
    await waitFor(async () => {
      const rows = await queryOnce(standbyUrl, `SELECT count(*)::int AS n FROM ${schema}.leaders WHERE expires_at > now()`);
      return rows[0]?.n > 0;
    }, 60_000, 'a leader lease renewed on the new primary');

    // Heartbeats and dead-worker detection work on the new primary: a worker that dies holding a job
    // (whose visibility timeout is ten minutes) has it taken back by the leader within seconds.
    const client = await Spool.open({ store: pg.url, schema, maintenance: false });
    t.after(() => client.close());
    const victimJob = await client.queue('victim').add({ victim: true });
    const victim = start('pg-worker.ts', [pg.url, schema, 'victim', '1', '300', '600000']);
    await waitFor(() => victim.lines.some((l) => l.startsWith(`start ${victimJob.id} 1 `)), 60_000, `the victim to start its job (${victim.stderr()})`);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const rescuer = start('pg-worker.ts', [pg.url, schema, 'victim', '1', '300', '0']);
    await waitFor(() => rescuer.lines.some((l) => l.startsWith(`start ${victimJob.id} 2 `)), 60_000, `the killed worker's job to be taken back (rescuer: ${rescuer.stderr()})`);
    await waitFor(async () => (await client.store.jobsGet([victimJob.id]))[0]?.state === 'completed', 60_000, 'the rescued job to complete');

    // Every acknowledged add, before and after the failover, is on the new primary and gets completed.
    await waitFor(() => producer.lines.includes('done'), 120_000, `the producer to finish (${count('added ', producer)} added; ${producer.stderr()})`);
    const added = producer.lines.filter((l) => l.startsWith('added ')).map((l) => l.slice(6));
    const jobs = await client.store.jobsGet(added);
    assert.deepEqual(added.filter((_, i) => jobs[i] === null), [], 'acknowledged adds lost');
    // At-least-once: an ack cut off by the failover runs its job again, so wait for the states, not a count.
    const notCompleted = async () => {
      const now = await client.store.jobsGet(added);
      return added.flatMap((id, i) => (now[i]?.state === 'completed' ? [] : [`${id}: ${now[i]?.state}`]));
    };
    try {
      await waitFor(async () => (await notCompleted()).length === 0, 120_000, 'the worker to complete every added job');
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${added.length} added, not completed: ${(await notCompleted()).slice(0, 10).join(', ')}; worker stderr: ${worker.stderr()}`);
    }

    // The failover reads as a few clear lines, with no password and no stack trace.
    for (const [name, c] of [['worker', worker], ['producer', producer]] as const) {
      const text = c.stderr();
      assert.ok(text.split('\n').filter(Boolean).length <= 6, `${name} wrote too much to stderr:\n${text}`);
      assert.ok(!/^\s+at /m.test(text), `${name} printed a stack trace:\n${text}`);
      assert.ok(!text.includes(':spool@'), `${name} printed the password:\n${text}`);
    }
  });
});
