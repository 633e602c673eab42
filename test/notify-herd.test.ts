/**
 * Wake-ups across processes on PostgreSQL without a herd: an add whose queue has consumers with
 * room in the adding process is left to them, and wakes no other process (no NOTIFY, so no
 * broker elsewhere runs an empty claim for it); once those consumers are full, an add wakes
 * the others, and a consumer elsewhere runs the job at once. Two engines on one schema, their
 * workers in process and, the second time, remote workers through a broker on each engine.
 * The test LISTENs on the store's channel itself: NOTIFYs arrive in commit order, so once a
 * later one (an add to a queue nobody here consumes) has arrived, every earlier one has too.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import pg from 'pg';
import { Spool, type Job } from '../src/index.ts';
import { connect } from '../src/client/connect.ts';
import { startBroker } from '../src/server/broker.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';
import { gate, quiet, waitFor } from './support/remote.ts';

type Adder = { add(queue: string, payload: unknown): Promise<Job<unknown>> };
type Worker = { work(queue: string, handler: (job: Job<{ kind: string }>) => Promise<unknown>, options: { concurrency: number }): unknown };

/** The engines A and B on one schema, with what adds through A and the workers of each (in process, or remote through a broker). */
async function deployment(t: TestContext, remote: boolean, schema: string): Promise<{ a: Spool; b: Spool; producer: Adder; workerA: Worker; workerB: Worker; other: Adder }> {
  // The fallback poll at its longest: wake-ups here come from adds and notifications.
  const open = () => Spool.open({ store: testPgUrl(), schema, pollIntervalMs: 60_000, ...quiet });
  const a = await open();
  const b = await open();
  const c = await open();
  t.after(async () => {
    await a.close();
    await b.close();
    await c.close();
  });
  if (!remote) return { a, b, producer: a, workerA: a, workerB: b, other: c };
  const brokerA = await startBroker(a, { port: 0 });
  const brokerB = await startBroker(b, { port: 0 });
  const [producer, workerA, workerB] = await Promise.all([connect(brokerA.wsUrl, quiet), connect(brokerA.wsUrl, quiet), connect(brokerB.wsUrl, quiet)]);
  t.after(async () => {
    for (const client of [producer, workerA, workerB]) await client.close();
    await brokerA.close();
    await brokerB.close();
  });
  return { a, b, producer, workerA, workerB, other: c };
}

/** The queue names of the store's notifications, as they arrive (the test LISTENs on its channel itself). */
async function listen(t: TestContext, schema: string): Promise<string[]> {
  const heard: string[] = [];
  const listener = new pg.Client({ connectionString: testPgUrl() });
  await listener.connect();
  t.after(() => listener.end());
  listener.on('notification', (n) => heard.push(n.payload ?? ''));
  await listener.query(`LISTEN "spool_ready_${schema}"`);
  return heard;
}

async function herd(t: TestContext, remote: boolean): Promise<void> {
  const schema = uniqueSchema(remote ? 'herd_remote' : 'herd');
  const { a, b, producer, workerA, workerB, other } = await deployment(t, remote, schema);
  const heard = await listen(t, schema);

  const ranOn = new Map<string, string>();
  const blockedOnA = { n: 0 };
  const hold = gate();
  const handler = (who: string) => async (job: Job<{ kind: string }>) => {
    ranOn.set(job.id, who);
    if (job.payload.kind !== 'block') return;
    if (who === 'A') blockedOnA.n++;
    await hold.promise;
  };
  workerA.work('herd', handler('A'), { concurrency: 2 });
  workerB.work('herd', handler('B'), { concurrency: 4 });
  // Remote workers subscribe through their broker: wait until each engine counts their slots.
  await waitFor('both sides\' consumers subscribed', () => a.consumerSlots().get('herd')?.slots === 2 && b.consumerSlots().get('herd')?.slots === 4, 60_000);

  // A has room for each job (its slots free again, the last job acked): it takes them itself, and nobody else is woken.
  const idleA = () => {
    const s = a.consumerSlots().get('herd');
    return s?.slots === 2 && s.inFlight === 0;
  };
  for (let i = 0; i < 20; i++) {
    await waitFor('A\'s slots to be free', idleA, 60_000);
    const job = await producer.add('herd', { kind: 'quick' });
    await waitFor(`job ${i} to run`, () => ranOn.has(job.id), 60_000);
  }
  await other.add('herd-sentinel', {});
  await waitFor('the sentinel notification', () => heard.includes('herd-sentinel'), 60_000);
  assert.deepEqual(heard.filter((q) => q === 'herd'), [], 'adds that A took itself woke no other process');

  // A full (its two slots held by jobs that wait for the gate): an add wakes the others, and B runs the job.
  for (let i = 0; blockedOnA.n < 2; i++) {
    assert.ok(i < 6, 'B has four slots: at most six blocking jobs fill A\'s two');
    const job = await producer.add('herd', { kind: 'block' });
    await waitFor(`blocking job ${i} to start`, () => ranOn.has(job.id), 60_000);
  }
  const x = await producer.add('herd', { kind: 'quick' });
  await waitFor('the job added while A was full to run', () => ranOn.has(x.id), 60_000);
  assert.equal(ranOn.get(x.id), 'B', 'a consumer of another process ran it');
  assert.ok(heard.includes('herd'), 'the add woke the other processes');
  hold.open();
}

/**
 * Adds the adding engine's consumers cannot be sure to take still wake the others, though those
 * consumers are idle: one that needs a resource tag (only its own claim may lease it, so the
 * others are told) and one in the caller's transaction (it is not written until the caller
 * commits). A plain add between them wakes nobody (A's idle consumers take it: promised, or
 * leased by its insert), so the test sees that a notification is held back when it can be.
 */
async function unpromised(t: TestContext): Promise<void> {
  const schema = uniqueSchema('herd_unpromised');
  const { a, b, other } = await deployment(t, false, schema);
  const heard = await listen(t, schema);
  const ran = new Set<string>();
  const handler = async (job: Job<unknown>) => void ran.add(job.id);
  a.work('tagged', handler, { concurrency: 2, tags: ['gpu'] });
  b.work('tagged', handler, { concurrency: 2, tags: ['gpu'] });
  await waitFor("both engines' consumers subscribed", () => a.consumerSlots().get('tagged')?.slots === 2 && b.consumerSlots().get('tagged')?.slots === 2, 60_000);
  let sentinels = 0;
  /** The notifications of `tagged` that the adds before it sent, once a later one arrived. */
  const heardSince = async (from: number): Promise<number> => {
    const sentinel = `sentinel-${++sentinels}`;
    await other.add(sentinel, {});
    await waitFor(`the notification of ${sentinel}`, () => heard.includes(sentinel), 60_000);
    return heard.slice(from).filter((q) => q === 'tagged').length;
  };
  const queue = a.queue('tagged');

  let from = heard.length;
  const plain = await queue.add({});
  await waitFor('the plain job to run', () => ran.has(plain.id), 60_000);
  assert.equal(await heardSince(from), 0, 'a plain add that A has room for wakes nobody');

  from = heard.length;
  const tagged = await queue.add({}, { requires: ['gpu'] });
  await waitFor('the tagged job to run', () => ran.has(tagged.id), 60_000);
  assert.equal(await heardSince(from), 1, 'an add that requires a resource tag wakes the others');

  from = heard.length;
  const client = new pg.Client({ connectionString: testPgUrl() });
  await client.connect();
  t.after(() => client.end());
  await client.query('BEGIN');
  const inTx = await queue.add({}, { tx: client });
  await client.query('COMMIT');
  await waitFor('the job added in a transaction to run', () => ran.has(inTx.id), 60_000);
  assert.equal(await heardSince(from), 1, 'an add in the caller\'s transaction wakes the others');
}

describe('NOTIFY wake-ups without a herd (PostgreSQL, two engines on one schema)', () => {
  it('adds the adding engine cannot promise (a resource tag, the caller\'s transaction) still wake the others', { timeout: 180_000 }, (t) => unpromised(t));
  it('in process: adds the adding engine takes itself wake nobody; once it is full they wake the others', { timeout: 180_000 }, (t) => herd(t, false));
  it('through brokers: the same with remote workers', { timeout: 180_000 }, (t) => herd(t, true));
});
