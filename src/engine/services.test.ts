import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lease } from '../core/job.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { runServices, type Service, type ServiceEffects } from './services.ts';
import { Spool } from './spool.ts';

function recorder() {
  const log: string[] = [];
  const effects: ServiceEffects = { revoke: (l: Lease) => void log.push(`revoke ${l.jobId}/${l.token}`), wake: (q) => void log.push(`wake ${q}`) };
  const service = (name: string, scope: Service['scope'], everyTicks: number): Service => ({
    name, scope, everyTicks,
    async run(_s, { after, tick }) {
      log.push(`${name}@${tick}`);
      after((e) => e.wake(name));
    },
  });
  return { log, effects, service };
}

const params = (tick: number, effects: ServiceEffects, onError: (err: unknown, service: string) => void = (err) => { throw err; }) =>
  ({ leaderId: null, leaseMs: 1000, now: 0, tick, effects, onError });

test('services run on their ticks; effects are applied after the leader duty, upkeep after that', async () => {
  const store = openSqliteStore({ path: ':memory:' });
  try {
    const { log, effects, service } = recorder();
    const services = [service('every', 'leader', 1), service('third', 'leader', 3), service('upkeep', 'upkeep', 1)];
    for (const tick of [1, 3]) {
      const { led, upkeep } = await runServices(store, services, params(tick, effects));
      assert.equal(led, true);
      await upkeep;
    }
    assert.deepEqual(log, [
      'every@1', 'wake every', 'upkeep@1',
      'every@3', 'third@3', 'wake every', 'wake third', 'upkeep@3',
    ]);
  } finally {
    await store.close();
  }
});

test('a process that does not lead runs no leader or upkeep service and applies no effect', async () => {
  const store = openSqliteStore({ path: ':memory:' });
  try {
    const { log, effects, service } = recorder();
    const notLeader: Store = Object.assign(Object.create(store) as Store, { asLeader: async () => ({ led: false as const }) });
    const { led, upkeep } = await runServices(notLeader, [service('reaper', 'leader', 1), service('vacuum', 'upkeep', 1)], { ...params(1, effects), leaderId: 'me' });
    await upkeep;
    assert.equal(led, false);
    assert.deepEqual(log, []);
  } finally {
    await store.close();
  }
});

test('a failing upkeep service is reported by name and does not fail the tick', async () => {
  const store = openSqliteStore({ path: ':memory:' });
  try {
    const { effects } = recorder();
    const errors: string[] = [];
    const broken: Service = { name: 'broken', scope: 'upkeep', everyTicks: 1, run: async () => { throw new Error('disk on fire'); } };
    const { upkeep } = await runServices(store, [broken], params(1, effects, (err, name) => void errors.push(`${name}: ${(err as Error).message}`)));
    await upkeep;
    assert.deepEqual(errors, ['broken: disk on fire']);
  } finally {
    await store.close();
  }
});

test('on a store with a registry, the lease reaper runs at least every half heartbeat, whatever maintenanceIntervalMs says', { timeout: 30_000 }, async (t) => {
  // A tick a minute, a heartbeat of 200 ms: the tick runs every 100 ms, or a dead process's jobs would wait a minute.
  const spool = await Spool.open({ store: 'memory', heartbeatIntervalMs: 200, maintenanceIntervalMs: 60_000 });
  t.after(() => spool.close());
  const dead = '00000000-0000-7000-8000-00000000dead';
  const now = spool.clock.now();
  await spool.store.workerRegister!({ id: dead, host: 'gone', pid: 1 }, now, 1);
  await spool.queue('q').add({});
  const [job] = await spool.store.jobsClaim({ queue: 'q', limit: 1, leaseMs: 600_000, now, workerId: dead });
  while ((await spool.get(job!.id)).state === 'active') await new Promise((r) => setTimeout(r, 10));
  const back = await spool.get(job!.id);
  assert.deepEqual([back.state, back.history.map((h) => h.outcome)], ['ready', ['expired']]);
});
