import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import { fields, startBroker, stopBroker, until, untilSettled } from './support/broker.ts';
import { startFixture, type Child } from './support/child.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

// Brokers register in the store and beat this often; B takes over A's duties soon after A stops beating.
const HEARTBEAT_MS = 1000;
// Short, so that leases taken through the killed broker and never settled come back soon.
const VISIBILITY_MS = 4000;
const CONCURRENCY = 16;
const HELD = 4;

describe('two brokers on one PostgreSQL, one killed under load (real processes)', () => {
  it('clients fail over to the other broker; no confirmed add is lost; only jobs in flight at the kill may run twice', { timeout: 60_000 }, async (t) => {
    const url = testPgUrl();
    const schema = uniqueSchema('failover');
    const args = ['--schema', schema, '--set', `heartbeatIntervalMs=${HEARTBEAT_MS}`, '--set', 'leaderLeaseMs=500', '--set', 'maintenanceIntervalMs=100'];
    const a = await startBroker(t, url, 0, args);
    const b = await startBroker(t, url, 0, args); // after A: A ran the migrations
    const both = `${a.wsUrl},${b.wsUrl}`;
    const setup = await Spool.connect(a.wsUrl);
    t.after(() => setup.close());
    await setup.queue('work').configure({ visibilityTimeoutMs: VISIBILITY_MS, maxStalls: 5 });

    // A client of broker A alone that takes jobs and never finishes them: once A is dead, B must take them back.
    const heldIds = (await setup.queue('work').addMany(Array.from({ length: HELD }, (_, n) => ({ payload: { held: n } })))).map((j) => j.id);
    await setup.close();
    const stuck = startFixture('remote-stuck-worker.ts', [a.wsUrl, 'work', String(HELD)]);
    t.after(() => void stuck.child.kill('SIGKILL'));
    await until(() => stuck.lines.length === HELD, 15_000, () => `the stuck client to take its jobs (${stuck.lines.join(' | ')}; ${stuck.stderr()})`);
    assert.deepEqual(stuck.lines.map((l) => l.split(' ')[1]).sort(), [...heldIds].sort());

    const worker = startFixture('remote-worker.ts', [both, 'work', String(CONCURRENCY), '30']);
    const producer = startFixture('remote-producer.ts', [both, 'work', '300', 'p']);
    t.after(() => {
      worker.child.kill('SIGKILL');
      producer.child.kill('SIGKILL');
    });
    const count = (c: Child, prefix: string) => fields(c, prefix).length;
    const show = (c: Child) => `last lines: ${c.lines.slice(-4).join(' | ')}; stderr: ${c.stderr()}`;
    await until(() => count(producer, 'added') >= 500 && count(worker, 'acked') >= 500, 30_000,
      () => `the run to get going (producer ${show(producer)}; worker ${show(worker)})`);

    // Jobs the worker holds until it has failed over: some are surely in flight through A at the kill.
    const adder = await Spool.connect(a.wsUrl);
    const holdIds = (await adder.queue('work').addMany(Array.from({ length: HELD }, () => ({ payload: { hold: true } })))).map((j) => j.id);
    await adder.close();
    await until(() => holdIds.every((id) => worker.lines.some((l) => l.startsWith(`start ${id} `))), 15_000,
      () => `the worker to start the held jobs (worker ${show(worker)})`);

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    for (const [name, c] of [['worker', worker], ['producer', producer]] as const) {
      await until(() => count(c, 'up') === 1, 10_000, () => `the ${name} to fail over (${show(c)})`);
      const upAt = Number(fields(c, 'up')[0]![0]);
      assert.ok(upAt - killedAt < 5000, `the ${name} failed over within seconds (${upAt - killedAt} ms)`);
      assert.ok(c.stderr().includes(`lost the connection to the broker at ${a.wsUrl}`), `${name}: ${c.stderr()}`);
    }
    // A is gone: whatever is confirmed from now on went through B.
    const addsAfter = count(producer, 'added');
    const acksAfter = count(worker, 'acked');
    await until(() => count(producer, 'added') >= addsAfter + 200 && count(worker, 'acked') >= acksAfter + 200, 20_000,
      () => `adds and acks through broker B (producer ${show(producer)}; worker ${show(worker)})`);
    // The stuck client's jobs, taken back by B, run on the worker.
    await until(() => heldIds.every((id) => worker.lines.some((l) => l.startsWith(`acked ${id} `))), 10_000,
      () => `the jobs held through A to be redelivered (worker ${show(worker)})`);

    producer.child.kill('SIGTERM');
    await producer.exited;
    assert.equal(producer.child.exitCode, 0, `the producer ran to the end: ${show(producer)}`);
    const confirmed = fields(producer, 'added').map(([id]) => id!);
    assert.equal(new Set(confirmed).size, confirmed.length);

    const check = await Spool.connect(b.wsUrl);
    t.after(() => check.close());
    await untilSettled(check.queue('work'), VISIBILITY_MS + 10_000, () => `worker ${show(worker)}`);
    await check.close();
    worker.child.kill('SIGTERM');
    await worker.exited;
    assert.equal(worker.child.exitCode, 0, `the worker closed gracefully: ${show(worker)}`);
    await stopBroker(b);

    // Straight from the database: every confirmed add is there, completed.
    const db = await Spool.open({ store: url, schema, maintenance: false });
    t.after(() => db.close());
    const jobs = await db.store.jobsGet(confirmed);
    assert.deepEqual(confirmed.filter((_, i) => jobs[i] === null), [], 'confirmed adds lost');
    assert.deepEqual(confirmed.filter((_, i) => jobs[i]!.state !== 'completed'), [], 'confirmed adds not completed');

    // B took the stuck client's leases back once A was dead: at the latest when they ran out (the client's last
    // extend went through A, before the kill). Today that happens sooner, when A's registration lapses
    // (1.5 heartbeats), since a lease belongs to the broker that claimed it.
    const released: number[] = [];
    for (const job of await db.store.jobsGet(heldIds)) {
      assert.equal(job!.state, 'completed');
      assert.deepEqual(job!.history.map((h) => h.outcome), ['expired', 'completed'], `history of ${job!.id}`);
      released.push(job!.history[0]!.endedAt - killedAt);
      assert.ok(released.at(-1)! <= VISIBILITY_MS + 1000, `the lease of ${job!.id} was taken back by its end (${released.at(-1)} ms after the kill)`);
    }
    await db.close();

    // Who ran what. Jobs broker A delivered reached the worker before it saw A go ("down"); of those, the ones
    // not acked by then were in flight at the kill: only they may run (or be acked) twice.
    const downAt = Number(fields(worker, 'down')[0]![0]);
    const starts = new Map<string, number[]>();
    for (const [id, , at] of fields(worker, 'start')) starts.set(id!, [...(starts.get(id!) ?? []), Number(at)]);
    const acks = new Map<string, number[]>();
    for (const [id, at] of fields(worker, 'acked')) acks.set(id!, [...(acks.get(id!) ?? []), Number(at)]);
    const inFlight = new Set([...starts].filter(([id, s]) => s[0]! <= downAt && !(acks.get(id) ?? []).some((x) => x <= downAt)).map(([id]) => id));
    for (const id of holdIds) assert.ok(inFlight.has(id), `the held job ${id} was in flight through A at the kill`);
    for (const [what, runs] of [['started', starts], ['acked', acks]] as const) {
      const twice = [...runs].filter(([, list]) => list.length > 1);
      for (const [id, list] of twice) {
        assert.ok(inFlight.has(id), `job ${id} was ${what} ${list.length} times but was not in flight at the kill`);
        assert.equal(list.length, 2, `job ${id} was ${what} at most twice`);
      }
      assert.ok(twice.length <= CONCURRENCY, `at most one duplicate per slot of the worker (${twice.length} ${what} twice)`);
    }
    for (const id of heldIds) assert.equal(starts.get(id)?.length, 1, `the held job ${id} ran once on the worker`);
    for (const [code, id] of fields(worker, 'error')) {
      assert.equal(code, 'STALE_LEASE', `only an ack of a job taken back may be refused (${code} ${id})`);
      assert.ok(inFlight.has(id!), `a refused ack of ${id}, which was not in flight at the kill`);
    }
    // Leases taken through A stay valid through B until the takeover: the jobs in flight were mostly acked through B, once.
    const ackedThroughB = [...inFlight].filter((id) => starts.get(id)!.length === 1 && (acks.get(id) ?? []).length === 1);
    assert.ok(ackedThroughB.length > 0, `jobs delivered through A were acked through B (${inFlight.size} in flight)`);

    for (const [name, c] of [['worker', worker], ['producer', producer]] as const) {
      assert.equal(count(c, 'down'), 1, `${name}: one "down"`);
      const lines = c.stderr().split('\n').filter(Boolean);
      assert.ok(lines.length <= 2, `${name} wrote ${lines.length} lines to stderr:\n${c.stderr()}`);
    }
    const duplicates = [...starts].filter(([, s]) => s.length > 1).length;
    console.log(`${confirmed.length} confirmed adds; ${inFlight.size} jobs in flight at the kill, ${ackedThroughB.length} acked through B, ${duplicates} ran twice; ` +
      `the stuck client's leases were taken back ${Math.min(...released)}–${Math.max(...released)} ms after the kill`);
  });
});
