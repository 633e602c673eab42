/**
 * The overview is cluster-wide: two brokers (`spool serve`, real processes) on one PostgreSQL
 * schema; jobs are added and worked through broker A alone, and broker B's overview shows them
 * (λ, μ, c and A's worker among the consumers). Then A is killed: the totals B sums never go
 * down, B keeps counting A's arrivals while they are in its window, and A's consumers go away.
 * Nothing waits for a time: every step waits for a state.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spool } from '../src/index.ts';
import type { Overview } from '../src/model/overview.ts';
import { SAMPLER } from '../src/model/sampler.ts';
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts';
import type { ProcessSnapshots } from '../src/store/store.ts';
import { fields, startBroker, until } from './support/broker.ts';
import { startFixture } from './support/child.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const QUEUE = 'cluster';
const JOBS = 40;
const CONCURRENCY = 3;

/** Every queue's `added` and `completed` summed as the engine sums them: every snapshot and the retired sums. */
function totals(read: ProcessSnapshots): { added: number; completed: number } {
  let added = 0;
  let completed = 0;
  for (const counts of [read.retired[QUEUE], ...read.processes.map((p) => p.counts[QUEUE])]) {
    added += counts?.added ?? 0;
    completed += counts?.completed ?? 0;
  }
  return { added, completed };
}

describe('the overview of two brokers on one PostgreSQL (real processes)', () => {
  it('broker B shows what went through broker A; after A is killed the totals never go down and its consumers go', { timeout: 120_000 }, async (t) => {
    const url = testPgUrl();
    const schema = uniqueSchema('cluster');
    const args = ['--schema', schema, '--set', 'heartbeatIntervalMs=1000', '--set', 'leaderLeaseMs=500'];
    const a = await startBroker(t, url, 0, args);
    const b = await startBroker(t, url, 0, args); // after A: A ran the migrations
    const store = await openPostgresStore({ url, schema, poolSize: 1, notify: false });
    t.after(() => store.close());
    const overviewOfB = async (): Promise<Overview> => {
      const res = await fetch(`${b.url}/v1/overview`);
      assert.equal(res.status, 200);
      return (await res.json()) as Overview;
    };
    const ofA = (o: Overview) => o.consumers.filter((c) => c.process.pid === a.child.pid);

    // A worker on broker A alone, and jobs added through A alone.
    const worker = startFixture('remote-worker.ts', [a.wsUrl, QUEUE, String(CONCURRENCY), '20']);
    t.after(() => void worker.child.kill('SIGKILL'));
    await until(() => worker.lines.includes('ready'), 60_000, () => `the worker to connect (${worker.stderr()})`);
    const producer = await Spool.connect(a.wsUrl);
    await producer.queue(QUEUE).addMany(Array.from({ length: JOBS }, (_, n) => ({ payload: n })));
    await producer.close();
    await until(() => fields(worker, 'acked').length === JOBS, 30_000, () => `the worker to finish (${worker.lines.slice(-3).join(' | ')})`);
    const lastAddDone = Date.now(); // the adds were confirmed before this

    // B's overview shows A's arrivals, completions, worker slots and worker.
    let o!: Overview;
    await until(async () => {
      o = await overviewOfB();
      const q = o.queues.find((x) => x.queue === QUEUE);
      // A publishes what changed about once a second: its worker's last acks may show in a later snapshot.
      return q !== undefined && q.model.arrivalRate > 0 && q.model.completionRate > 0 && q.model.workers === CONCURRENCY && ofA(o).length === 1 && ofA(o)[0]!.queues[0]?.inFlight === 0;
    }, 30_000, () => `B's overview to show A's work (${JSON.stringify(o)})`);
    const [consumer] = ofA(o);
    assert.deepEqual(consumer!.queues, [{ queue: QUEUE, slots: CONCURRENCY, inFlight: 0 }]);
    // Both brokers are listed, B (which answers) first, A with its one client; exactly one of them leads the upkeep.
    await until(async () => (o = await overviewOfB()).processes.filter((p) => p.leader).length === 1, 20_000, () => `one leader in ${JSON.stringify(o.processes)}`);
    assert.deepEqual(o.processes.map((p) => p.pid), [b.child.pid, a.child.pid]);
    assert.equal(o.processes[1]!.consumers, 1);
    assert.equal(typeof consumer!.process.host, 'string');
    assert.ok(consumer!.id.length > 0);
    const before = totals(await store.processSnapshotsRead!());
    assert.deepEqual(before, { added: JOBS, completed: JOBS }, 'A published every add and completion');

    // Kill A. From now on, B's overviews and the totals it sums are watched at every step.
    a.child.kill('SIGKILL');
    await a.exited;
    let last = before;
    const check = async (): Promise<Overview> => {
      const now = totals(await store.processSnapshotsRead!());
      assert.ok(now.added >= last.added && now.completed >= last.completed, `the totals never go down: ${JSON.stringify(last)} then ${JSON.stringify(now)}`);
      last = now;
      const seen = await overviewOfB();
      const q = seen.queues.find((x) => x.queue === QUEUE)!;
      // A's adds are in B's window until it slides past them (with a margin for the ticks between publishing and sampling).
      if (seen.at < lastAddDone + SAMPLER.windowMs - 5000) assert.ok(q.model.arrivalRate > 0 && q.model.completionRate > 0, `B still counts A's work: ${JSON.stringify(q.model)}`);
      return seen;
    };
    await until(async () => ofA(await check()).length === 0, 40_000, () => 'A\'s consumers to leave B\'s overview', 250);
    const afterKill = await check();
    assert.equal(afterKill.queues.find((x) => x.queue === QUEUE)!.model.workers, 0, 'A\'s worker slots went with it');
    assert.deepEqual(afterKill.processes.map((p) => p.pid), [b.child.pid], 'A is no longer listed');

    // The leader retires A's snapshot in time (two model windows); here the test retires it at once,
    // as soon as B has published after A's last snapshot, so that only A's is old enough.
    const aAt = (await store.processSnapshotsRead!()).processes.find((p) => p.pid === a.child.pid)!.at;
    await until(async () => (await store.processSnapshotsRead!()).processes.some((p) => p.pid === b.child.pid && p.at > aAt + 1), 20_000, () => 'B to publish again', 250);
    assert.equal(await store.processSnapshotsRetire!({ before: aAt + 1 }), 1, 'A\'s snapshot alone is retired');
    const after = await store.processSnapshotsRead!();
    assert.deepEqual(after.processes.map((p) => p.pid), [b.child.pid]);
    assert.deepEqual(totals(after), before, 'its counts moved to the retired sums');
    for (let i = 0; i < 3; i++) await check(); // B's overviews go on counting them
  });
});
