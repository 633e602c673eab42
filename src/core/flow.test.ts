import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideFlow, FLOW_WAIT_AT, type SettlingChild } from './flow.ts';
import type { Job, JobState } from './job.ts';

const job = (id: string, state: JobState, more: Partial<Job> = {}): Job => ({ id, queue: 'q', state, runAt: 0, result: null, lastError: null, ...more }) as Job;
const parent = job('p', 'scheduled', { runAt: FLOW_WAIT_AT });
const child = (id: string, j: Job | null): SettlingChild => ({ id, queue: 'q', name: 'default', job: j });

describe('decideFlow', () => {
  it('ends the flow of a parent that no longer waits (cancelled, deleted, or no longer at its waiting time)', () => {
    for (const p of [job('p', 'cancelled'), null, job('p', 'scheduled', { runAt: 5 })]) {
      assert.deepEqual(decideFlow('continue', p, [child('a', job('a', 'completed'))]), { kind: 'ended' });
    }
  });

  it('waits while a child is live, unless rule fail meets a failed one', () => {
    const kids = [child('a', job('a', 'active')), child('b', job('b', 'dead', { lastError: 'boom\n  at stack' }))];
    assert.deepEqual(decideFlow('continue', parent, kids), { kind: 'wait' });
    assert.deepEqual(decideFlow('ignore', parent, kids), { kind: 'wait' });
    const failed = decideFlow('fail', parent, kids);
    assert.equal(failed.kind, 'failed');
    assert.equal(failed.kind === 'failed' && failed.error, 'child-failed: child b (queue q) is dead: boom');
  });

  it('a deleted child is failed; ignore keeps the completed, continue every child, in order', () => {
    const kids = [child('a', null), child('b', job('b', 'completed', { result: 7 })), child('c', job('c', 'cancelled'))];
    assert.deepEqual(decideFlow('ignore', parent, kids), { kind: 'ready', childResults: [{ id: 'b', queue: 'q', name: 'default', state: 'completed', result: 7, error: null }] });
    const all = decideFlow('continue', parent, kids);
    assert.deepEqual(all.kind === 'ready' && all.childResults.map((r) => [r.id, r.state, r.error]), [['a', 'deleted', 'deleted'], ['b', 'completed', null], ['c', 'cancelled', 'cancelled']]);
    assert.equal(decideFlow('fail', parent, kids).kind, 'failed');
  });
});
