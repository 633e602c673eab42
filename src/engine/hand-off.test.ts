import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job } from '../core/job.ts';
import { defaultQueueConfig, resolveQueueConfig, type QueueConfig } from '../core/queue-config.ts';
import type { NewJobRow } from '../store/store.ts';
import { QueueDispatcher } from './dispatcher.ts';
import { HandOff } from './hand-off.ts';
import { Telemetry } from './telemetry.ts';

const T = 1_700_000_000_000;
const row = (n: number, over: Partial<NewJobRow> = {}): NewJobRow => ({
  id: `j${n}`, queue: 'q', name: 'default', payload: JSON.stringify({ n }), priority: 0, runAt: T, state: 'ready',
  maxAttempts: 3, maxStalls: 2, timeoutMs: 0, trace: null, group: null, createdAt: T, ...over,
});

function handOff(owner: () => string | null | undefined = () => 'me') {
  const reserved: number[] = [];
  const delivered: Job[][] = [];
  const h = new HandOff({
    token: 7, telemetry: new Telemetry(),
    reserve: (_queue, n) => (reserved.push(n), true),
    deliver: (_queue, _n, jobs) => void delivered.push(jobs),
    owner,
  });
  return { h, reserved, delivered };
}

test('hand-off: only ready rows without tags or a bound, of a queue whose claims are plain, with the process registered', () => {
  const plain = defaultQueueConfig();
  const cases: [string, NewJobRow[], QueueConfig][] = [
    ['a delayed row', [row(1), row(2, { state: 'scheduled', runAt: T + 1000 })], plain],
    ['a row that requires a resource tag', [row(1, { requires: 'gpu' })], plain],
    ['a bounded queue', [row(1, { bound: { maxLength: 10, overflow: 'reject' } })], plain],
    ['a rate limit', [row(1)], resolveQueueConfig({ rateLimit: { rate: 10 } })],
    ['per-key limits', [row(1)], resolveQueueConfig({ concurrencyLimit: 1 })],
    ['per-key rate limits', [row(1)], resolveQueueConfig({ keyRateLimit: { rate: 1 } })],
    ['a priority policy', [row(1)], resolveQueueConfig({ policy: 'priority' })],
  ];
  for (const [what, rows, config] of cases) {
    const { h, reserved } = handOff();
    assert.equal(h.lease('q', rows, config), 0, what);
    assert.deepEqual([reserved, rows.map((r) => r.lease)], [[], rows.map(() => undefined)], `${what}: nothing reserved or leased`);
  }
  const unregistered = handOff(() => undefined);
  assert.equal(unregistered.h.lease('q', [row(1)], plain), 0, 'the process is still registering: no owner for the lease');
  assert.deepEqual(unregistered.reserved, []);
});

test('hand-off: the rows get the lease a claim would give; the stored ones reach the consumers, as leased jobs', () => {
  const { h, reserved, delivered } = handOff();
  const config = resolveQueueConfig({ visibilityTimeoutMs: 5000 });
  const rows = [row(1), row(2), row(3)];
  assert.equal(h.lease('q', rows, config), 3);
  assert.deepEqual(reserved, [3]);
  assert.deepEqual(rows.map((r) => r.lease), rows.map(() => ({ workerId: 'me', expiresAt: T + 5000 })));
  const added = rows.map((r) => ({ id: r.id, queue: 'q', state: 'ready', attempt: 0, leaseToken: 0, leaseExpiresAt: null, payload: JSON.parse(r.payload), history: [] }) as unknown as Job);
  h.done('q', 3, rows, added, (i) => i !== 1); // the second one was not stored (its key named another job)
  assert.equal(delivered.length, 1);
  assert.deepEqual(delivered[0]!.map((j) => [j.id, j.state, j.attempt, j.leaseToken, j.leaseExpiresAt]), [['j1', 'active', 1, 7, T + 5000], ['j3', 'active', 1, 7, T + 5000]]);
  assert.notEqual(delivered[0]![0]!.payload, added[0]!.payload, 'the handler gets a payload of its own');
  assert.equal(added[0]!.state, 'ready', 'the add returns its jobs as added');
});

/** A dispatcher over a backlog with claims counted and jobs given back recorded. */
function counting(backlog: string[]) {
  const seen = { claims: 0, givenBack: [] as string[] };
  const d = new QueueDispatcher({
    claimBatchMax: 100,
    claimsInFlightMax: 2,
    claim: async (limit) => {
      seen.claims++;
      return backlog.splice(0, limit).map((id) => ({ id }) as Job);
    },
    giveBack: (jobs) => void seen.givenBack.push(...jobs.map((j) => j.id)),
    delivered: () => {},
  });
  return { d, seen };
}

test('hand-off: only idle subscribers take jobs leased by their insert, within their free credit, and no claim runs for them', async () => {
  const backlog = ['old'];
  const { d, seen } = counting(backlog);
  const got: string[] = [];
  const sub = d.subscribe({ deliver: (jobs) => void got.push(...jobs.map((j) => j.id)), revoke: () => {} });
  assert.equal(d.handOut(1), false, 'before any claim came back: jobs may be waiting');
  sub.addCredits(3);
  await d.idle();
  assert.deepEqual([got, seen.claims], [['old'], 1], 'the first claim takes the waiting job and comes back short');
  assert.equal(d.handOut(3), false, 'more than the free credit (two)');
  assert.equal(d.handOut(1), true);
  assert.equal(d.handOut(1), true);
  assert.equal(d.handOut(1), false, 'the two free credits are reserved');
  d.handedOut(1, [{ id: 'h1' } as Job]);
  d.handedOut(1, []); // an insert that stored nothing: its credit is free again, and nothing is claimed for it
  await d.idle();
  assert.deepEqual([got, seen.claims, sub.credits], [['old', 'h1'], 1, 1]);
  assert.equal(d.handOut(1), true, 'still idle: the next add is handed off too');
  d.handedOut(1, [{ id: 'h2' } as Job]);
  sub.addCredits(2); // two jobs done: a returned credit claims nothing (see room())
  await d.idle();
  assert.equal(seen.claims, 1);
  d.wake(); // e.g. another process's add: the subscribers claim before anything is handed off again
  assert.equal(d.handOut(1), false, 'after a wake-up: until a claim comes back short');
  await d.idle();
  assert.equal(seen.claims, 2);
  assert.equal(d.handOut(1), true, 'short again, with no wake-up since');
  d.handedOut(1, [{ id: 'h3' } as Job]);
  assert.deepEqual(got, ['old', 'h1', 'h2', 'h3']);
  assert.deepEqual(seen.givenBack, []);
});

test('hand-off: a claim on its way refuses it, and a job whose subscriber left before the insert ended is given back', async () => {
  let finish: (() => void) | undefined;
  const d = new QueueDispatcher({
    claimBatchMax: 100,
    claimsInFlightMax: 2,
    claim: () => new Promise((resolve) => (finish = () => resolve([]))),
    giveBack: (jobs) => void givenBack.push(...jobs.map((j) => j.id)),
    delivered: () => {},
  });
  const givenBack: string[] = [];
  const sub = d.subscribe({ deliver: () => assert.fail('the subscriber left'), revoke: () => {} });
  sub.addCredits(2);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(finish, 'a claim is on its way');
  assert.equal(d.handOut(1), false, 'a claim on its way may bring waiting jobs first');
  finish!();
  await d.idle();
  assert.equal(d.handOut(1), true);
  let idle = false;
  const closing = d.idle().then(() => (idle = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(idle, false, 'idle() waits for a hand-off whose insert has not ended');
  sub.close();
  d.handedOut(1, [{ id: 'late' } as Job]);
  await closing;
  assert.deepEqual(givenBack, ['late']);
});
