import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import { fields, startBroker, stopBroker, until, type BrokerChild, untilSettled } from './support/broker.ts';
import { startFixture, type Child } from './support/child.ts';
import { tempDir } from './support/cli.ts';

// Much longer than any outage here (a broker restart takes under two seconds, more on a loaded machine), so the
// leases the worker holds while its broker is away are still valid when it acks them
// through the new one: no job runs twice. Jobs lost on their way to the worker come
// back after it.
const VISIBILITY_MS = 15_000;
const SERVE_ARGS = ['--set', 'maintenanceIntervalMs=100'];

describe('the broker killed and restarted on the same store and port (real processes)', () => {
  it('after SIGKILL and after SIGTERM the clients reconnect by themselves; every confirmed add is stored and completed once', { timeout: 120_000 }, async (t) => {
    const store = join(tempDir(t), 'data');
    let broker: BrokerChild = await startBroker(t, store, 0, SERVE_ARGS);
    const { port, wsUrl } = broker;
    const setup = await Spool.connect(wsUrl);
    await setup.queue('work').configure({ visibilityTimeoutMs: VISIBILITY_MS });
    await setup.close();

    const worker = startFixture('remote-worker.ts', [wsUrl, 'work', '16', '10']);
    const producer = startFixture('remote-producer.ts', [wsUrl, 'work', '400', 'p']);
    t.after(() => {
      worker.child.kill('SIGKILL');
      producer.child.kill('SIGKILL');
    });
    const count = (c: Child, prefix: string) => fields(c, prefix).length;
    const show = (c: Child) => `last lines: ${c.lines.slice(-4).join(' | ')}; stderr: ${c.stderr()}`;
    await until(() => worker.lines.includes('ready'), 60_000, () => `the worker to start (${show(worker)})`);

    const rounds = ['SIGKILL', 'SIGTERM'] as const;
    for (const [round, signal] of rounds.entries()) {
      const adds = count(producer, 'added');
      const acks = count(worker, 'acked');
      await until(() => count(producer, 'added') >= adds + 200 && count(worker, 'acked') >= acks + 200, 20_000,
        () => `work before the ${signal} (producer ${show(producer)}; worker ${show(worker)})`);

      if (signal === 'SIGKILL') {
        broker.child.kill('SIGKILL');
        await broker.exited;
        assert.equal(broker.child.signalCode, 'SIGKILL');
      } else await stopBroker(broker); // exit 0, after telling its clients to go elsewhere
      for (const c of [worker, producer]) {
        await until(() => count(c, 'down') === round + 1, 5_000, () => `a client to notice the ${signal} (${show(c)})`);
      }

      broker = await startBroker(t, store, port, SERVE_ARGS);
      const servingAt = Date.now();
      for (const [name, c] of [['worker', worker], ['producer', producer]] as const) {
        await until(() => count(c, 'up') === round + 1, 10_000, () => `the ${name} to reconnect after the ${signal} (${show(c)})`);
        const upAt = Number(fields(c, 'up')[round]![0]);
        assert.ok(upAt - servingAt < 30_000, `the ${name} reconnected by itself within seconds of the new broker (${upAt - servingAt} ms)`);
      }
      const addsAfter = count(producer, 'added');
      const acksAfter = count(worker, 'acked');
      await until(() => count(producer, 'added') >= addsAfter + 100 && count(worker, 'acked') >= acksAfter + 100, 20_000,
        () => `adds and acks through the new broker (producer ${show(producer)}; worker ${show(worker)})`);
    }

    producer.child.kill('SIGTERM');
    await producer.exited;
    assert.equal(producer.child.exitCode, 0, `the producer ran to the end: ${show(producer)}`);
    assert.ok(producer.lines.some((l) => l.startsWith('done ')), show(producer));
    const confirmed = fields(producer, 'added').map(([id]) => id!);
    assert.equal(new Set(confirmed).size, confirmed.length, 'each confirmed add is a job of its own');

    // Everything in the store ends completed: the confirmed adds, and any add that was stored but whose confirmation was lost.
    const check = await Spool.connect(broker.wsUrl);
    t.after(() => check.close());
    const counts = await untilSettled(check.queue('work'), VISIBILITY_MS + 10_000, () => `worker ${show(worker)}`);
    await check.close();

    worker.child.kill('SIGTERM');
    await worker.exited;
    assert.equal(worker.child.exitCode, 0, `the worker closed gracefully: ${show(worker)}`);
    assert.ok(worker.lines.includes('closed'));
    await stopBroker(broker);

    // Straight from the store, with no broker running: every confirmed add is there, completed.
    const local = await Spool.open({ store, maintenance: false });
    t.after(() => local.close());
    const jobs = await local.store.jobsGet(confirmed);
    assert.deepEqual(confirmed.filter((_, i) => jobs[i] === null), [], 'confirmed adds lost');
    assert.deepEqual(confirmed.filter((_, i) => jobs[i]!.state !== 'completed'), [], 'confirmed adds not completed');
    await local.close();

    // The worker ran each job once, and no ack was refused: its leases outlived both outages.
    const starts = new Map<string, number>();
    for (const [id] of fields(worker, 'start')) starts.set(id!, (starts.get(id!) ?? 0) + 1);
    assert.deepEqual([...starts].filter(([, n]) => n > 1), [], 'jobs run twice');
    assert.equal(starts.size, counts.completed, 'the worker ran every completed job');
    assert.deepEqual(worker.lines.filter((l) => l.startsWith('error ')), [], 'refused acks');
    assert.equal(new Set(fields(worker, 'acked').map(([id]) => id)).size, counts.completed, 'and acked each');

    // Each outage is one line when it starts and one when it ends.
    for (const [name, c] of [['worker', worker], ['producer', producer]] as const) {
      assert.equal(count(c, 'down'), rounds.length, `${name}: one "down" per outage`);
      assert.equal(count(c, 'up'), rounds.length, `${name}: one "up" per outage`);
      const lines = c.stderr().split('\n').filter(Boolean);
      assert.ok(lines.length <= 2 * rounds.length, `${name} wrote ${lines.length} lines to stderr:\n${c.stderr()}`);
      assert.ok(!/^\s+at /m.test(c.stderr()), `${name} printed a stack trace:\n${c.stderr()}`);
    }
    console.log(`${confirmed.length} confirmed adds, ${counts.completed} jobs completed (${counts.completed - confirmed.length} stored without a confirmation)`);
  });
});
