import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Spool } from '../src/index.ts';
import { fields, startBroker, stopBroker, until } from './support/broker.ts';
import { startFixture, type Child } from './support/child.ts';
import { tempDir } from './support/cli.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';
import { PartitionRelay } from './support/relay.ts';

// A dead worker's jobs come back within two heartbeat intervals, whatever the visibility timeout.
// Every test leases for 10 minutes: a job taken back by its timeout would fail the test by the
// test's own timeout. The times measured are printed, and checked only against bounds far above
// them (a loaded machine must not fail them) and far below the visibility timeout.
const VISIBILITY_MS = 10 * 60_000;
const HEARTBEAT_MS = 300;
const HELD = 3;
/** Far above 2 heartbeats (600 ms), far below the visibility timeout. */
const GENEROUS_MS = 60_000;

/** An embedded or a remote Spool. */
type SpoolClient = Spool | Awaited<ReturnType<typeof Spool.connect>>;

/** Adds `n` jobs to `work` with a 10-minute visibility timeout; returns their ids. */
async function addHeld(client: SpoolClient, n: number, payload: (i: number) => unknown = (i) => ({ i })): Promise<string[]> {
  await client.queue('work').configure({ visibilityTimeoutMs: VISIBILITY_MS, maxStalls: 5 });
  return (await client.queue('work').addMany(Array.from({ length: n }, (_, i) => ({ payload: payload(i) })))).map((j) => j.id);
}

/**
 * Kills `victim` holding `ids`; another worker (`spool`) must get them again as attempt 2. Returns
 * the milliseconds from the kill to each lease's take-back (the end of its `expired` attempt, in
 * the job's history) and to each redelivery.
 */
async function killAndWaitForRedelivery(t: TestContext, victim: Child, spool: SpoolClient, ids: string[]): Promise<{ takenBack: number[]; redelivered: number[] }> {
  const seen = new Map<string, { attempt: number; at: number }>();
  let killedAt = 0;
  victim.child.kill('SIGKILL');
  killedAt = Date.now();
  await victim.exited;
  assert.equal(victim.child.signalCode, 'SIGKILL');
  const worker = spool.queue('work').work(async (job) => {
    seen.set(job.id, { attempt: job.attempt, at: Date.now() });
  }, { concurrency: ids.length });
  t.after(() => worker.close());
  await until(() => ids.every((id) => seen.has(id)), GENEROUS_MS, () => `the killed worker's jobs to be delivered again (seen ${seen.size} of ${ids.length})`, 20);
  await until(async () => (await spool.queue('work').stats()).counts.completed === ids.length, GENEROUS_MS, () => 'the redelivered jobs to complete');
  const takenBack: number[] = [];
  for (const id of ids) {
    assert.equal(seen.get(id)!.attempt, 2, `${id} came back as attempt 2`);
    const job = await spool.get(id);
    assert.deepEqual(job.history.map((h) => h.outcome), ['expired', 'completed'], `history of ${id}`);
    takenBack.push(job.history[0]!.endedAt - killedAt);
  }
  await worker.close();
  const redelivered = ids.map((id) => seen.get(id)!.at - killedAt);
  assert.ok(Math.max(...takenBack, ...redelivered) < GENEROUS_MS);
  return { takenBack, redelivered };
}

const span = (ms: number[]) => `${Math.min(...ms)}–${Math.max(...ms)} ms`;
const report = (what: string, r: { takenBack: number[]; redelivered: number[] }) =>
  console.log(`${what}: leases taken back ${span(r.takenBack)} and jobs redelivered ${span(r.redelivered)} after the kill (heartbeat ${HEARTBEAT_MS} ms)`);

describe('a dead worker\'s jobs come back within two heartbeats, not at their visibility timeout (real processes, SIGKILL)', () => {
  it('embedded on SQLite, two processes on one file: the survivor takes the killed process\'s leases back', { timeout: 120_000 }, async (t) => {
    const path = join(tempDir(t), 'spool.db');
    const spool = await Spool.open({ store: path, heartbeatIntervalMs: HEARTBEAT_MS, maintenanceIntervalMs: 100, pollIntervalMs: 20 });
    t.after(() => spool.close());
    const ids = await addHeld(spool, HELD);
    const victim = startFixture('stuck-worker.ts', [path, 'work', String(HEARTBEAT_MS), String(HELD)]);
    t.after(() => void victim.child.kill('SIGKILL'));
    await until(() => victim.lines.length === HELD, 30_000, () => `the worker to take its jobs (${victim.lines.join(' | ')}; ${victim.stderr()})`);
    for (const job of await Promise.all(ids.map((id) => spool.get(id)))) assert.ok(job.state === 'active' && job.leaseExpiresAt! - Date.now() > VISIBILITY_MS / 2);

    report('SQLite, two processes', await killAndWaitForRedelivery(t, victim, spool, ids));
  });

  it('on PostgreSQL, two processes: the leader takes the killed process\'s leases back once its registration lapses', { timeout: 120_000 }, async (t) => {
    const url = testPgUrl();
    const schema = uniqueSchema('reassign');
    const spool = await Spool.open({ store: url, schema, heartbeatIntervalMs: HEARTBEAT_MS, maintenanceIntervalMs: 100, pollIntervalMs: 50, leaderLeaseMs: 300 });
    t.after(() => spool.close());
    const ids = await addHeld(spool, HELD);
    // pg-worker: <url> <schema> <queue> <concurrency> <heartbeatMs> <workMs>; its jobs take an hour.
    const victim = startFixture('pg-worker.ts', [url, schema, 'work', String(HELD), String(HEARTBEAT_MS), String(3_600_000)]);
    t.after(() => void victim.child.kill('SIGKILL'));
    await until(() => fields(victim, 'start').length === HELD, 30_000, () => `the worker to take its jobs (${victim.lines.join(' | ')}; ${victim.stderr()})`);

    report('PostgreSQL, two processes', await killAndWaitForRedelivery(t, victim, spool, ids));
  });

  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`a remote worker behind a broker (${kind}): its connection closes, the broker shortens its leases, the reaper takes them back`, { timeout: 120_000 }, async (t) => {
      const store = kind === 'sqlite' ? join(tempDir(t), 'data') : testPgUrl();
      const args = ['--set', `wsHeartbeatMs=${HEARTBEAT_MS}`, '--set', 'maintenanceIntervalMs=100', ...(kind === 'postgres' ? ['--schema', uniqueSchema('reassign')] : [])];
      const broker = await startBroker(t, store, 0, args);
      const client = await Spool.connect(broker.wsUrl);
      t.after(() => client.close());
      const ids = await addHeld(client, HELD);
      const victim = startFixture('remote-stuck-worker.ts', [broker.wsUrl, 'work', String(HELD)]);
      t.after(() => void victim.child.kill('SIGKILL'));
      await until(() => victim.lines.length === HELD, 30_000, () => `the worker to take its jobs (${victim.lines.join(' | ')}; ${victim.stderr()})`);

      report(`remote worker on a ${kind} broker (wsHeartbeatMs)`, await killAndWaitForRedelivery(t, victim, client, ids));
      const abandoned = broker.lines.filter((l) => l.includes('"leases abandoned"')).map((l) => JSON.parse(l) as { leases: number; shortened: number });
      assert.deepEqual(abandoned.map((a) => [a.leases, a.shortened]), [[HELD, HELD]], 'the broker shortened the leases of the closed connection');
      await client.close();
      await stopBroker(broker);
    });
  }
});

describe('a worker paused past its registration (real processes, SIGSTOP)', () => {
  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`${kind}: the survivor takes its leases back, and once it runs again its handlers' signals abort`, { timeout: 120_000 }, async (t) => {
      const store = kind === 'sqlite' ? join(tempDir(t), 'spool.db') : testPgUrl();
      const schema = kind === 'postgres' ? uniqueSchema('paused') : '';
      const spool = await Spool.open({
        store, ...(schema ? { schema } : {}), heartbeatIntervalMs: HEARTBEAT_MS, maintenanceIntervalMs: 100, pollIntervalMs: 20, leaderLeaseMs: 300,
      });
      t.after(() => spool.close());
      const ids = await addHeld(spool, HELD);
      const victim = startFixture('stuck-worker.ts', [store, 'work', String(HEARTBEAT_MS), String(HELD), schema]);
      t.after(() => void victim.child.kill('SIGKILL'));
      await until(() => fields(victim, 'started').length === HELD, 30_000, () => `the worker to take its jobs (${victim.lines.join(' | ')}; ${victim.stderr()})`);

      // Paused, it misses its heartbeats: its registration lapses and the survivor takes its
      // leases back and runs the jobs (the handler here finishes them).
      victim.child.kill('SIGSTOP');
      const worker = spool.queue('work').work(async () => {}, { concurrency: HELD });
      t.after(() => worker.close());
      await until(async () => (await spool.queue('work').stats()).counts.completed === HELD, GENEROUS_MS, () => 'the paused worker\'s jobs to run elsewhere');
      for (const id of ids) assert.deepEqual((await spool.get(id)).history.map((h) => h.outcome), ['expired', 'completed'], `history of ${id}`);

      // Running again, its next heartbeat is refused: it registers again and aborts each handler
      // whose lease was taken (before, they ran on until their acks were refused).
      victim.child.kill('SIGCONT');
      await until(() => fields(victim, 'aborted').length === HELD, GENEROUS_MS, () => `the resumed worker's handlers to abort (${victim.lines.join(' | ')}; ${victim.stderr()})`);
      for (const f of fields(victim, 'aborted')) {
        assert.ok(ids.includes(f[0]!), f.join(' '));
        assert.deepEqual(f.slice(1), ['1', 'StaleLeaseError'], 'the first attempt\'s handler, aborted as a stale lease');
      }
    });
  }
});

describe('a remote worker that stops answering (real processes, a partition)', () => {
  it('its broker closes the silent connection at the next ping and shortens its leases: the jobs run elsewhere within two heartbeats after that', { timeout: 120_000 }, async (t) => {
    const broker = await startBroker(t, join(tempDir(t), 'data'), 0, ['--set', `wsHeartbeatMs=${HEARTBEAT_MS}`, '--set', 'maintenanceIntervalMs=100']);
    const relay = await PartitionRelay.open(broker.port);
    t.after(() => relay.close());
    const client = await Spool.connect(broker.wsUrl);
    t.after(() => client.close());
    const ids = await addHeld(client, HELD);
    const victim = startFixture('remote-stuck-worker.ts', [`ws://127.0.0.1:${relay.port}${new URL(broker.wsUrl).pathname}`, 'work', String(HELD)]);
    t.after(() => void victim.child.kill('SIGKILL'));
    await until(() => victim.lines.length === HELD, 30_000, () => `the worker to take its jobs (${victim.lines.join(' | ')}; ${victim.stderr()})`);

    // Every byte lost both ways, the sockets left open: only the broker's pings can tell.
    relay.cut('both');
    const cutAt = Date.now();
    const seen = new Map<string, number>();
    const worker = client.queue('work').work(async (job) => void seen.set(job.id, job.attempt), { concurrency: HELD });
    t.after(() => worker.close());
    await until(() => ids.every((id) => seen.get(id) === 2), GENEROUS_MS, () => `the silent worker's jobs to run elsewhere (seen ${JSON.stringify([...seen])})`);
    const back = await Promise.all(ids.map(async (id) => {
      const job = await client.get(id);
      assert.equal(job.history[0]!.outcome, 'expired');
      return job.history[0]!.endedAt - cutAt;
    }));
    // The connection closed 1–2 heartbeats after the cut (no pong by the next ping), its leases 1.5 heartbeats after that.
    console.log(`remote worker cut off: leases taken back ${span(back)} after the cut (wsHeartbeatMs ${HEARTBEAT_MS})`);
    assert.ok(Math.max(...back) < GENEROUS_MS);
    assert.ok(broker.lines.some((l) => l.includes('"leases abandoned"')));
    await worker.close();
    victim.child.kill('SIGKILL');
    await victim.exited;
    await client.close();
    await stopBroker(broker);
  });
});

describe('a worker that comes back in time keeps its jobs (real processes)', () => {
  it('a remote worker whose connection to its broker is reset reconnects to the same broker, extends and acks its jobs', { timeout: 120_000 }, async (t) => {
    // A heartbeat long enough for any reconnect (the client tries again within 50–500 ms): the abandoned leases end 6 s after the reset.
    const broker = await startBroker(t, join(tempDir(t), 'data'), 0, ['--set', 'wsHeartbeatMs=4000', '--set', 'maintenanceIntervalMs=100']);
    const relay = await PartitionRelay.open(broker.port);
    t.after(() => relay.close());
    const client = await Spool.connect(broker.wsUrl);
    t.after(() => client.close());
    const ids = await addHeld(client, HELD, () => ({ hold: true }));
    // remote-worker: a job with `hold` runs until the client has lost its broker and reconnected.
    const worker = startFixture('remote-worker.ts', [`ws://127.0.0.1:${relay.port}${new URL(broker.wsUrl).pathname}`, 'work', String(HELD), '0']);
    t.after(() => void worker.child.kill('SIGKILL'));
    await until(() => fields(worker, 'start').length === HELD, 30_000, () => `the worker to take its jobs (${worker.lines.join(' | ')}; ${worker.stderr()})`);

    relay.reset();
    await until(() => fields(worker, 'down').length === 1, 30_000, () => `the worker to see its connection go (${worker.lines.join(' | ')})`);
    relay.heal();
    await until(() => fields(worker, 'acked').length === HELD, 30_000, () => `the worker to ack its jobs after reconnecting (${worker.lines.join(' | ')}; ${worker.stderr()})`);
    assert.deepEqual(fields(worker, 'error'), [], 'no ack refused');
    for (const id of ids) {
      const job = await client.get(id);
      assert.deepEqual([job.state, job.attempt, job.history.map((h) => h.outcome)], ['completed', 1, ['completed']], `${id} completed by its first lease`);
    }
    assert.ok(broker.lines.some((l) => l.includes('"leases abandoned"')), 'the broker saw the connection close holding the leases');
    worker.child.kill('SIGTERM');
    await worker.exited;
    await client.close();
    await stopBroker(broker);
  });

  it('a remote worker whose broker is killed reconnects to a second broker on PostgreSQL, extends and acks its jobs', { timeout: 120_000 }, async (t) => {
    const url = testPgUrl();
    // Brokers beat every 4 s: broker A's leases are taken back 6 s after its last beat unless the client extends them through B first.
    const args = ['--schema', uniqueSchema('reassign'), '--set', 'heartbeatIntervalMs=4000', '--set', 'leaderLeaseMs=500', '--set', 'maintenanceIntervalMs=100'];
    const a = await startBroker(t, url, 0, args);
    const b = await startBroker(t, url, 0, args);
    const client = await Spool.connect(b.wsUrl);
    t.after(() => client.close());
    const ids = await addHeld(client, HELD, () => ({ hold: true }));
    const worker = startFixture('remote-worker.ts', [`${a.wsUrl},${b.wsUrl}`, 'work', String(HELD), '0']);
    t.after(() => void worker.child.kill('SIGKILL'));
    await until(() => fields(worker, 'start').length === HELD, 30_000, () => `the worker to take its jobs through A (${worker.lines.join(' | ')}; ${worker.stderr()})`);

    a.child.kill('SIGKILL');
    await a.exited;
    await until(() => fields(worker, 'acked').length === HELD, 30_000, () => `the worker to ack its jobs through B (${worker.lines.join(' | ')}; ${worker.stderr()})`);
    assert.deepEqual(fields(worker, 'error'), [], 'no ack refused');
    for (const id of ids) {
      const job = await client.get(id);
      assert.deepEqual([job.state, job.attempt, job.history.map((h) => h.outcome)], ['completed', 1, ['completed']], `${id} completed by its first lease`);
    }
    worker.child.kill('SIGTERM');
    await worker.exited;
    await client.close();
    await stopBroker(b);
  });
});
