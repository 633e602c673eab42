// The seeded schedule replays: the same seed gives the same cycles, within the documented bounds.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { faultsOf, schedule } from './random.ts';

it('the same seed, deployment and fault kind give the same cycles; another seed others', () => {
  const a = schedule(42, 'broker-sqlite', 'kill-broker', 20);
  assert.deepEqual(schedule(42, 'broker-sqlite', 'kill-broker', 20), a);
  assert.notDeepEqual(schedule(43, 'broker-sqlite', 'kill-broker', 20), a);
  assert.notDeepEqual(schedule(42, 'brokers-postgres', 'kill-broker', 20), a);
  for (const c of a) {
    assert.ok(c.runMs >= 200 && c.runMs < 1200 && c.downMs >= 0 && c.downMs < 500 && Number.isInteger(c.target), JSON.stringify(c));
  }
});

it('the embedded deployment has no broker to kill and no network to partition; only the PostgreSQL one a PostgreSQL to stop; every one a disk to fill', () => {
  assert.deepEqual(faultsOf('embedded'), ['kill-producer', 'kill-worker', 'stop-worker', 'disk-full', 'clock-step']);
  assert.equal(faultsOf('brokers-postgres').length, 10);
  assert.ok(faultsOf('brokers-postgres').includes('restart-postgres'));
  assert.ok(!faultsOf('broker-sqlite').includes('restart-postgres'));
});
