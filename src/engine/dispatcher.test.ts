import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job } from '../core/job.ts';
import { QueueDispatcher } from './dispatcher.ts';

/** A dispatcher whose claims hand out the jobs of `backlog`, at most `perClaim` at a time. */
function dispatcher(backlog: string[], perClaim: number) {
  const d = new QueueDispatcher({
    claimBatchMax: 100,
    claimsInFlightMax: 1,
    claim: async (limit) => backlog.splice(0, Math.min(limit, perClaim)).map((id) => ({ id }) as Job),
    giveBack: () => assert.fail('nothing is given back while subscribers have credits'),
    delivered: () => {},
  });
  return d;
}

test('under a light load (one job per claim) the jobs go round the subscribers, not all to the first in line', async () => {
  const backlog = Array.from({ length: 12 }, (_, i) => `j${i}`);
  const d = dispatcher(backlog, 1);
  const got: Record<string, string[]> = { a: [], b: [], c: [] };
  for (const name of ['a', 'b', 'c'] as const) {
    // Each subscriber finishes its job at once and gives the credit back, as a fast worker does.
    const sub = d.subscribe({ deliver: (jobs) => { got[name]!.push(...jobs.map((j) => j.id)); queueMicrotask(() => sub.addCredits(jobs.length)); }, revoke: () => {} });
    sub.addCredits(4);
  }
  while (backlog.length > 0) {
    d.wake();
    await d.idle();
  }
  assert.deepEqual(Object.values(got).map((ids) => ids.length), [4, 4, 4], JSON.stringify(got));
});

test('a batch is dealt one job at a time round the subscribers that have credits', async () => {
  const backlog = Array.from({ length: 5 }, (_, i) => `j${i}`);
  const d = dispatcher(backlog, 5);
  const got: Record<string, string[]> = { a: [], b: [] };
  const a = d.subscribe({ deliver: (jobs) => void got.a!.push(...jobs.map((j) => j.id)), revoke: () => {} });
  const b = d.subscribe({ deliver: (jobs) => void got.b!.push(...jobs.map((j) => j.id)), revoke: () => {} });
  a.addCredits(4);
  b.addCredits(1);
  await d.idle();
  assert.deepEqual(got, { a: ['j0', 'j2', 'j3', 'j4'], b: ['j1'] });
});

test('each job goes to the least loaded subscriber: the smallest share of its capacity in use', async () => {
  const backlog = ['j0', 'j1', 'j2'];
  const d = dispatcher(backlog, 3);
  const got: Record<string, string[]> = { a: [], b: [] };
  // a runs 3 of 4 (load 0.75), b 1 of 4 (load 0.25): a round-robin deal would give a the first job.
  const a = d.subscribe({ capacity: 4, deliver: (jobs) => void got.a!.push(...jobs.map((j) => j.id)), revoke: () => {} });
  const b = d.subscribe({ capacity: 4, deliver: (jobs) => void got.b!.push(...jobs.map((j) => j.id)), revoke: () => {} });
  a.addCredits(1);
  b.addCredits(3);
  await d.idle();
  // b: 0.25 → 0.5 → 0.75; then a and b are both at 0.75 and the tie goes round, to a (after b, served last).
  assert.deepEqual(got, { a: ['j2'], b: ['j0', 'j1'] });
});

test('loads are relative to capacity: a subscriber of 10 takes jobs before one of 2 that runs one', async () => {
  const backlog = ['j0', 'j1', 'j2', 'j3'];
  const d = dispatcher(backlog, 4);
  const got: Record<string, string[]> = { small: [], big: [] };
  const small = d.subscribe({ capacity: 2, deliver: (jobs) => void got.small!.push(...jobs.map((j) => j.id)), revoke: () => {} });
  const big = d.subscribe({ capacity: 10, deliver: (jobs) => void got.big!.push(...jobs.map((j) => j.id)), revoke: () => {} });
  small.addCredits(1); // 1 of 2 in use: 0.5
  big.addCredits(9); // 1 of 10 in use: 0.1
  await d.idle();
  // big: 0.1 → 0.2 → 0.3 → 0.4 → 0.5: four jobs before it reaches small's load.
  assert.deepEqual(got, { small: [], big: ['j0', 'j1', 'j2', 'j3'] });
});

test('subscribers with different resource tags: one claim per tag set, each job only to a subscriber whose tags cover it', async () => {
  const backlog: { id: string; requires: string[] }[] = [
    { id: 'g0', requires: ['gpu'] }, { id: 'p0', requires: [] }, { id: 'g1', requires: ['gpu'] }, { id: 'p1', requires: [] },
    { id: 'e0', requires: ['gpu', 'region:eu'] }, { id: 'p2', requires: [] },
  ];
  const asked: string[] = [];
  const d = new QueueDispatcher({
    claimBatchMax: 100,
    claimsInFlightMax: 1,
    claim: async (limit, tags) => {
      asked.push(tags.join(','));
      const out: Job[] = [];
      for (let i = 0; i < backlog.length && out.length < limit;) {
        if (backlog[i]!.requires.every((t) => tags.includes(t))) out.push(backlog.splice(i, 1)[0] as unknown as Job);
        else i++;
      }
      return out;
    },
    giveBack: () => assert.fail('every job claimed has an able subscriber'),
    delivered: () => {},
  });
  const got: Record<string, string[]> = { plain: [], gpu: [] };
  for (const [name, tags] of [['plain', []], ['gpu', ['gpu']]] as const) {
    const sub = d.subscribe({
      tags, capacity: 2,
      deliver: (jobs) => { got[name]!.push(...jobs.map((j) => j.id)); queueMicrotask(() => sub.addCredits(jobs.length)); },
      revoke: () => {},
    });
    sub.addCredits(2);
  }
  for (let i = 0; i < 10 && backlog.length > 1; i++) {
    d.wake();
    await d.idle();
  }
  assert.deepEqual(backlog.map((j) => j.id), ['e0'], 'nobody here has region:eu');
  assert.deepEqual(got.gpu!.filter((id) => id.startsWith('g')).sort(), ['g0', 'g1']);
  assert.deepEqual(got.plain!.filter((id) => id.startsWith('g')), [], 'no gpu job went to the plain subscriber');
  assert.deepEqual([...got.plain!, ...got.gpu!].filter((id) => id.startsWith('p')).sort(), ['p0', 'p1', 'p2']);
  assert.ok(got.plain!.length > 0, 'the plain subscriber took plain jobs');
  assert.deepEqual([...new Set(asked)].sort(), ['', 'gpu'], 'claims were made per tag set');
});

/** A claim the test answers itself: the dispatcher's claims wait until the test hands out jobs. */
function heldClaims() {
  const asked: { limit: number; answer: (jobs: Job[]) => void }[] = [];
  let n = 0;
  const d = new QueueDispatcher({
    claimBatchMax: 100,
    claimsInFlightMax: 2,
    claim: (limit) => new Promise<Job[]>((answer) => asked.push({ limit, answer })),
    giveBack: () => assert.fail('claims never ask for more than the unreserved credit'),
    delivered: () => {},
  });
  const jobs = (k: number) => Array.from({ length: k }, () => ({ id: `j${n++}` }) as Job);
  const turn = () => new Promise<void>((r) => setImmediate(r));
  return { d, asked, jobs, turn };
}

test('a wake-up while a claim is on its way starts a second one for the credit the first did not reserve, never a third', async () => {
  const { d, asked, jobs, turn } = heldClaims();
  const got: string[] = [];
  const sub = d.subscribe({ deliver: (js) => got.push(...js.map((j) => j.id)), revoke: () => {} });
  sub.addCredits(10);
  await turn();
  assert.deepEqual(asked.map((a) => a.limit), [10], 'the first claim asks for all the credit');
  asked[0]!.answer(jobs(1)); // the queue held one job: the next claims ask for a few
  await turn();
  assert.deepEqual(asked.slice(1).map((a) => a.limit), [], 'a short claim does not claim again by itself');
  d.wake();
  await turn();
  assert.deepEqual(asked.slice(1).map((a) => a.limit), [2], 'after a short claim, a small one');
  d.wake(); // an add while it is on its way
  await turn();
  assert.deepEqual(asked.slice(1).map((a) => a.limit), [2, 2], 'a second claim starts at once');
  d.wake();
  await turn();
  assert.equal(asked.length, 3, 'at most claimsInFlightMax on their way');
  asked[2]!.answer(jobs(2)); // full: the backlog is bigger, and the wake-up above is remembered
  await turn();
  assert.deepEqual(asked.slice(3).map((a) => a.limit), [4], 'a full claim doubles the next');
  asked[1]!.answer([]);
  asked[3]!.answer(jobs(4));
  await turn();
  assert.equal(got.length, 7);
  assert.equal(sub.credits, 3);
  const more = asked.slice(4);
  assert.equal(more.reduce((n, a) => n + a.limit, 0), 3, 'together, the claims that follow ask for the credit left, no more');
  for (const a of more) a.answer(jobs(a.limit));
  await d.idle();
  assert.equal(sub.credits, 0);
});

test('claims on their way reserve their credit: together they never ask for more than the subscribers can take', async () => {
  const { d, asked, jobs, turn } = heldClaims();
  const sub = d.subscribe({ deliver: () => {}, revoke: () => {} });
  sub.addCredits(3);
  await turn();
  d.wake();
  await turn();
  assert.deepEqual(asked.map((a) => a.limit), [3], 'all of it reserved by the first: no second claim');
  sub.addCredits(2); // a worker finished two jobs
  await turn();
  assert.deepEqual(asked.map((a) => a.limit), [3, 2]);
  asked[0]!.answer(jobs(3));
  asked[1]!.answer(jobs(2));
  await d.idle();
  assert.equal(sub.credits, 0);
});

test('a returned credit after a short claim claims nothing until a wake-up says jobs may be ready', async () => {
  const { d, asked, jobs, turn } = heldClaims();
  const sub = d.subscribe({ deliver: () => {}, revoke: () => {} });
  sub.addCredits(4); // a new subscriber's credit claims
  await turn();
  assert.deepEqual(asked.map((a) => a.limit), [4]);
  asked[0]!.answer(jobs(1)); // short, and no wake-up meanwhile: the queue is empty now
  await d.idle();
  sub.addCredits(1); // the worker finished that job
  await turn();
  await turn();
  assert.equal(asked.length, 1, 'no empty claim for a returned credit');
  d.wake(); // an add
  await turn();
  assert.deepEqual(asked.map((a) => a.limit), [4, 2], 'the wake-up claims (twice what the last claim found)');
  asked[1]!.answer([]);
  await d.idle();
});

test('a returned credit after a claim a rate limit held short claims again (the queue is not empty)', async () => {
  const { d, asked, jobs, turn } = heldClaims();
  const sub = d.subscribe({ deliver: () => {}, revoke: () => {} });
  sub.addCredits(4);
  await turn();
  asked[0]!.answer(Object.assign(jobs(1), { heldUntil: 1000 }));
  await d.idle();
  await turn();
  assert.equal(asked.length, 1, 'held: no claim again at once');
  sub.addCredits(1);
  await turn();
  assert.equal(asked.length, 2, 'the returned credit claims');
  asked[1]!.answer([]);
  await d.idle();
});

/** A dispatcher whose claims the test answers, counting the times it woke the other processes. */
function promising(claimBatchMax = 100) {
  const asked: { limit: number; answer: (jobs: Job[]) => void }[] = [];
  const woke = { others: 0 };
  const d = new QueueDispatcher({
    claimBatchMax,
    claimsInFlightMax: 1,
    claim: (limit) => new Promise<Job[]>((answer) => asked.push({ limit, answer })),
    giveBack: () => assert.fail('claims never ask for more than the credit'),
    delivered: () => {},
    wakeOthers: () => void woke.others++,
  });
  const turn = () => new Promise<void>((r) => setImmediate(r));
  const job = (id: string) => ({ id }) as Job;
  return { d, asked, woke, turn, job };
}

test('promises: adds are left to these subscribers only within their credit, less what earlier promises hold', () => {
  const { d } = promising();
  assert.equal(d.promise(['a']), false, 'no subscriber: the others must be woken');
  const sub = d.subscribe({ deliver: () => {}, revoke: () => {} });
  sub.addCredits(3);
  assert.equal(d.promise(['a', 'b']), true);
  assert.equal(d.promise(['c', 'd']), false, 'two of three held already');
  assert.equal(d.promise(['c']), true);
  d.written(['a', 'b', 'c'], () => true);
  assert.equal(d.promise(['e']), false, 'written, not yet claimed: still held');
});

test('promises: a claim that brings the promised jobs ends them; a short one ends them too (taken elsewhere); neither wakes the others', async () => {
  const { d, asked, woke, turn, job } = promising();
  const sub = d.subscribe({ deliver: () => {}, revoke: () => {} });
  sub.addCredits(4);
  await turn();
  asked[0]!.answer([]); // the subscriber's first claim: nothing yet
  await d.idle();
  assert.ok(d.promise(['a']));
  d.written(['a'], () => true);
  await turn();
  asked[1]!.answer([job('a')]);
  await d.idle();
  assert.ok(d.promise(['b', 'c', 'd']), 'a, delivered, holds a credit: three left');
  d.written(['b', 'c', 'd'], () => true);
  await turn();
  asked[2]!.answer([job('b')]); // short: c and d were taken elsewhere
  await d.idle();
  assert.equal(woke.others, 0);
  assert.ok(d.promise(['e', 'f']), 'nothing held any more');
});

test('promises: a full claim that left promised jobs behind goes on claiming them while there is credit, else wakes the other processes', async () => {
  const { d, asked, woke, turn, job } = promising(2);
  const sub = d.subscribe({ deliver: () => {}, revoke: () => {} });
  sub.addCredits(5);
  await turn();
  asked[0]!.answer([]); // the first claim: nothing yet
  await d.idle();
  assert.ok(d.promise(['p']));
  d.written(['p'], () => true);
  await turn();
  asked[1]!.answer([job('x'), job('y')]); // full (claims of 2), older jobs first: p still waits
  await turn();
  assert.equal(woke.others, 0, 'credit is left here: p goes to the next claim');
  assert.equal(asked.length, 3);
  asked[2]!.answer([job('p'), job('z')]);
  await turn();
  assert.deepEqual(asked.map((a) => a.limit), [2, 2, 2, 1], 'full claims: the last credit claims too');
  asked[3]!.answer([]);
  await d.idle();
  assert.equal(woke.others, 0);
  assert.ok(d.promise(['q']), 'one credit left, nothing held');
  d.written(['q'], () => true);
  await turn();
  asked[4]!.answer([job('w')]); // full (one credit), without q: no credit left for it here
  await d.idle();
  await turn();
  assert.equal(woke.others, 1, 'the others are woken for q');
});

test('promises: a claim on its way that spends the credit before promised jobs were written leaves them to the other processes', async () => {
  const { d, asked, woke, turn, job } = promising();
  const sub = d.subscribe({ deliver: () => {}, revoke: () => {} });
  sub.addCredits(2);
  await turn();
  assert.deepEqual(asked.map((a) => a.limit), [2], 'a claim on its way, begun before the add');
  assert.ok(d.promise(['p']));
  d.written(['p'], () => true);
  asked[0]!.answer([job('x'), job('y')]); // full, with older jobs: the credit is spent
  await d.idle();
  await turn();
  assert.equal(asked.length, 1, 'no credit for another claim');
  assert.equal(woke.others, 1, 'p is left to the others at once');
});

test('promises: the last subscriber leaving, or an add ending after that, wakes the other processes for what was promised', async () => {
  const { d, woke, turn } = promising();
  const sub = d.subscribe({ deliver: () => {}, revoke: () => {} });
  sub.addCredits(2);
  await turn();
  assert.ok(d.promise(['a']));
  d.written(['a'], () => true);
  assert.ok(d.promise(['b']));
  sub.close();
  assert.equal(woke.others, 1, 'a was written: the others are woken for it');
  d.written(['b'], () => true);
  assert.equal(woke.others, 2, 'b was written after the promise was dropped');
  d.written(['c'], () => false);
  assert.equal(woke.others, 2, 'nothing written, nothing to wake for');
});

