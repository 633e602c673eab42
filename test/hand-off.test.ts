/**
 * The hand-off (src/engine/hand-off.ts): a job added while its queue's consumers are idle is
 * leased by its own insert and reaches a worker with no claim; jobs already waiting are claimed
 * first, in order. On both stores, with the worker in process and remote through a broker
 * (counting the claims of the broker's engine).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Spool, type Job } from '../src/index.ts';
import { connect } from '../src/client/connect.ts';
import { openStore } from '../src/engine/open-store.ts';
import { startBroker } from '../src/server/broker.ts';
import type { Store } from '../src/store/store.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';
import { quiet, waitFor } from './support/remote.ts';

type Payload = { name: string };
type Side = {
  add(queue: string, payload: Payload): Promise<Job<unknown>>;
  work(queue: string, handler: (job: Job<Payload>) => Promise<unknown>, options: { concurrency: number }): unknown;
};

/** The store, with its claims counted. */
function counted(store: Store, tally: { claims: number }): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop !== 'jobsClaim') return value.bind(target);
      return async (...args: unknown[]) => {
        tally.claims++;
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
}

async function deployment(t: TestContext, kind: 'sqlite' | 'postgres', remote: boolean): Promise<{ side: Side; tally: { claims: number } }> {
  let spec: string;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'spool-hand-off-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    spec = join(dir, 'spool.db');
  } else spec = testPgUrl();
  const tally = { claims: 0 };
  const store = await openStore(spec, { schema: uniqueSchema('hand_off') });
  // The fallback poll at its longest: every claim here follows an add or a returned credit.
  const spool = await Spool.open({ store: counted(store, tally), pollIntervalMs: 60_000, ...quiet });
  t.after(() => spool.close());
  if (!remote) return { side: spool as unknown as Side, tally };
  const broker = await startBroker(spool, { port: 0 });
  const client = await connect(broker.wsUrl, quiet);
  t.after(async () => {
    await client.close();
    await broker.close();
  });
  return { side: client as unknown as Side, tally };
}

async function handOff(t: TestContext, kind: 'sqlite' | 'postgres', remote: boolean): Promise<void> {
  const { side, tally } = await deployment(t, kind, remote);
  const started: string[] = [];
  const run = async (job: Job<Payload>) => void started.push(job.payload.name);

  // Jobs waiting before the worker starts, and one added as it starts: the claims take them in order.
  for (let i = 0; i < 5; i++) await side.add('h', { name: `backlog-${i}` });
  side.work('h', run, { concurrency: 10 });
  await side.add('h', { name: 'late' });
  await waitFor('the backlog and the late job to run', () => started.length === 6, 60_000);
  assert.deepEqual(started, ['backlog-0', 'backlog-1', 'backlog-2', 'backlog-3', 'backlog-4', 'late']);

  // The consumers are idle once a claim came back short with no add meanwhile: from then on each
  // add reaches them without a claim. (The claim that makes them idle may still be on its way
  // as the first adds below are made, and one of those adds may claim as before: two at most.)
  const claims = tally.claims;
  for (let i = 0; i < 20; i++) {
    const name = `idle-${i}`;
    await side.add('h', { name });
    await waitFor(`${name} to run`, () => started.includes(name), 60_000);
  }
  assert.ok(tally.claims - claims <= 2, `no claim ran for the jobs added to idle consumers (${tally.claims - claims} claims for 20 adds)`);
}

describe('hand-off: adds to idle consumers are leased by their insert', () => {
  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`${kind}, in process`, { timeout: 120_000 }, (t) => handOff(t, kind, false));
    it(`${kind}, through a broker`, { timeout: 120_000 }, (t) => handOff(t, kind, true));
  }
});
