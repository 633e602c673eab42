// The history checker on hand-made histories: each finding it must report, and the verdict.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check } from './checker.ts';
import type { HistoryEvent, StoredJob } from './events.ts';
import { recoveryTimes } from './recovery.ts';

let clock = 1000;
const at = () => clock++;
const invoke = (callerId: string): HistoryEvent => ({ type: 'add-invoke', at: at(), proc: 'producer#1', callerId });
const added = (callerId: string, jobId: string): HistoryEvent => ({ type: 'add', at: at(), proc: 'producer#1', callerId, outcome: 'ok', jobId });
const unknownAdd = (callerId: string): HistoryEvent => ({ type: 'add', at: at(), proc: 'producer#1', callerId, outcome: 'unknown', error: 'socket closed' });
const delivered = (jobId: string, callerId: string | null, token: number, proc = 'worker-0#1'): HistoryEvent => ({ type: 'delivered', at: at(), proc, jobId, callerId, attempt: token, token });
const acked = (jobId: string, token: number, outcome: 'ok' | 'stale' | 'unknown' = 'ok', proc = 'worker-0#1'): HistoryEvent => ({ type: 'completed', at: at(), proc, jobId, token, outcome });
const kill = (target: string, role: 'producer' | 'worker' | 'broker' | 'postgres' = 'worker'): HistoryEvent => ({ type: 'fault', at: at(), proc: 'runner', action: 'kill', target, role });
const done = (id: string, callerId: string, leaseToken = 1): StoredJob => ({ id, callerId, state: 'completed', leaseToken });

/** One job added, delivered once and acked: the healthy history. */
function healthy(): HistoryEvent[] {
  return [invoke('c1'), added('c1', 'j1'), delivered('j1', 'c1', 1), acked('j1', 1)];
}

describe('the history checker', () => {
  it('passes a healthy history and counts it', () => {
    const r = check(healthy(), [done('j1', 'c1')]);
    assert.equal(r.ok, true, r.reasons.join('; '));
    assert.deepEqual(r.reasons, []);
    assert.equal(r.counts.acknowledgedAdds, 1);
    assert.equal(r.counts.acksOk, 1);
    assert.deepEqual(r.duplicates, []);
  });

  it('fails on an acknowledged add whose job is absent, or never completed', () => {
    const r = check([...healthy(), invoke('c2'), added('c2', 'j2'), invoke('c3'), added('c3', 'j3')], [done('j1', 'c1'), { id: 'j3', callerId: 'c3', state: 'dead', leaseToken: 3 }]);
    assert.equal(r.ok, false);
    assert.deepEqual(r.lost.map((f) => f.jobId), ['j2', 'j3']);
    assert.match(r.reasons[0]!, /^2 lost/);
  });

  it('does not count an add whose outcome is unknown (or never written) as lost', () => {
    const r = check([...healthy(), invoke('c2'), unknownAdd('c2'), invoke('c3')], [done('j1', 'c1')]);
    assert.equal(r.ok, true, r.reasons.join('; '));
    assert.equal(r.counts.unknownAdds, 1);
    assert.equal(r.counts.addsTried, 3);
  });

  it('accepts the delivery of a job whose add was killed mid-call (invoked, no outcome)', () => {
    const r = check([invoke('c9'), kill('producer#1', 'producer'), delivered('j9', 'c9', 1), acked('j9', 1)], [done('j9', 'c9')]);
    assert.equal(r.ok, true, r.reasons.join('; '));
  });

  it('fails on a delivery, or a stored job, that no producer added', () => {
    const r = check([...healthy(), delivered('jx', 'cx', 1), delivered('jy', null, 1)], [done('j1', 'c1'), done('jx', 'cx'), done('jz', 'cz')]);
    assert.equal(r.ok, false);
    assert.deepEqual(r.unexpected.map((f) => f.jobId), ['jx', 'jy', 'jz']);
  });

  it('fails on a delivery after an acknowledged completion', () => {
    const r = check([...healthy(), delivered('j1', 'c1', 2, 'worker-1#1')], [done('j1', 'c1')]);
    assert.equal(r.ok, false);
    assert.equal(r.redeliveredAfterCompletion.length, 1);
    assert.match(r.reasons.join(), /redelivered after an acknowledged completion/);
  });

  it('fails on a phantom ack: ok reported for a lease that did not complete the job', () => {
    const history = [invoke('c1'), added('c1', 'j1'), delivered('j1', 'c1', 1), delivered('j1', 'c1', 2, 'worker-1#1'), acked('j1', 2, 'ok', 'worker-1#1'), acked('j1', 1, 'ok')];
    const r = check(history, [done('j1', 'c1', 2)]);
    assert.equal(r.ok, false);
    assert.equal(r.phantomAcks.length, 1);
    assert.match(r.phantomAcks[0]!.detail, /token 2 completed it/);
    // An ok ack of a job the store does not show completed is a phantom too.
    const r2 = check(healthy(), [{ id: 'j1', callerId: 'c1', state: 'ready', leaseToken: 1 }]);
    assert.equal(r2.phantomAcks.length, 1);
    assert.equal(r2.lost.length, 1);
  });

  it('accepts a late ack refused as stale: a duplicate whose lease expired, not a phantom', () => {
    const history = [invoke('c1'), added('c1', 'j1'), delivered('j1', 'c1', 1), delivered('j1', 'c1', 2, 'worker-1#1'), acked('j1', 2, 'ok', 'worker-1#1'), acked('j1', 1, 'stale')];
    const r = check(history, [done('j1', 'c1', 2)]);
    assert.equal(r.ok, true, r.reasons.join('; '));
    assert.equal(r.counts.acksStale, 1);
    assert.deepEqual(r.duplicates, [{ jobId: 'j1', callerId: 'c1', deliveries: 2, causes: ['lease-expired'] }]);
  });

  it('names the cause of a duplicate: in flight when its worker or a broker was killed', () => {
    const history = [
      invoke('c1'), added('c1', 'j1'), invoke('c2'), added('c2', 'j2'),
      delivered('j1', 'c1', 1), kill('worker-0#1'), delivered('j1', 'c1', 2, 'worker-1#1'), acked('j1', 2, 'ok', 'worker-1#1'),
      delivered('j2', 'c2', 1, 'worker-1#1'), kill('broker-0#1', 'broker'), delivered('j2', 'c2', 2, 'worker-1#1'), delivered('j2', 'c2', 3, 'worker-1#1'), acked('j2', 3, 'ok', 'worker-1#1'),
    ];
    const r = check(history, [done('j1', 'c1', 2), done('j2', 'c2', 3)]);
    assert.equal(r.ok, true, r.reasons.join('; '));
    assert.deepEqual(r.duplicates.map((d) => [d.jobId, d.causes]), [['j1', ['in-flight-at-kill']], ['j2', ['in-flight-at-kill', 'lease-expired']]]);
    assert.deepEqual(r.duplicateCauses, { 'in-flight-at-kill': 2, 'lease-expired': 1 });
  });

  it('fails on two stored jobs with one caller id (a retried add its idempotency key should have kept once)', () => {
    const history = [invoke('c1'), unknownAdd('c1'), invoke('c1'), added('c1', 'j2'), delivered('j1', 'c1', 1), acked('j1', 1), delivered('j2', 'c1', 1), acked('j2', 1)];
    const r = check(history, [done('j1', 'c1'), done('j2', 'c1')]);
    assert.equal(r.ok, false);
    assert.match(r.reasons.join('; '), /1 publishes stored twice, e.g. caller id c1: jobs j1, j2/);
    assert.deepEqual(r.storedTwice, [{ callerId: 'c1', jobIds: ['j1', 'j2'] }]);
  });

  it('fails on a delayed job delivered sooner than 90 % of its delay, and on a lease taken back in less than half its length', () => {
    const history: HistoryEvent[] = [
      { type: 'add-invoke', at: 1000, proc: 'producer-0#1', callerId: 'late', delayMs: 1000 },
      { type: 'add', at: 1010, proc: 'producer-0#1', callerId: 'late', outcome: 'ok', jobId: 'j1' },
      { type: 'add-invoke', at: 1000, proc: 'producer-0#1', callerId: 'soon', delayMs: 1000 },
      { type: 'add', at: 1010, proc: 'producer-0#1', callerId: 'soon', outcome: 'ok', jobId: 'j2' },
      { type: 'delivered', at: 1900, proc: 'worker-0#1', jobId: 'j1', callerId: 'late', attempt: 1, token: 1 },
      { type: 'delivered', at: 1899, proc: 'worker-0#1', jobId: 'j2', callerId: 'soon', attempt: 1, token: 1 },
      // j1's lease (1000 ms) taken back after 400 ms, with no kill in between: early.
      { type: 'delivered', at: 2300, proc: 'worker-1#1', jobId: 'j1', callerId: 'late', attempt: 2, token: 2 },
      { type: 'completed', at: 2310, proc: 'worker-1#1', jobId: 'j1', token: 2, outcome: 'ok' },
      { type: 'completed', at: 2310, proc: 'worker-0#1', jobId: 'j2', token: 1, outcome: 'ok' },
    ];
    const stored = [done('j1', 'late', 2), done('j2', 'soon')];
    const withoutLeases = check(history, stored);
    assert.deepEqual(withoutLeases.early.delays.map((f) => f.callerId), ['soon']);
    assert.equal(withoutLeases.early.leases.length, 0, 'leases are judged only when their length is given');
    const r = check(history, stored, { leaseMs: 1000 });
    assert.equal(r.ok, false);
    assert.deepEqual(r.early.leases.map((f) => f.jobId), ['j1']);
    assert.match(r.reasons.join('; '), /1 delayed jobs delivered early.*1 leases taken back early/);
    // 500 ms later, the same redelivery is a lease that ran its course.
    const onTime = history.map((e) => (e.type === 'delivered' && e.token === 2 ? { ...e, at: 2900 } : e));
    assert.equal(check(onTime, stored, { leaseMs: 1000 }).early.leases.length, 0);
  });

  it('measures recovery from a fault to the next confirmed add and ack', () => {
    const history: HistoryEvent[] = [
      { type: 'fault', at: 100, proc: 'runner', action: 'kill', target: 'broker-0#1', role: 'broker' },
      { type: 'add', at: 150, proc: 'producer#1', callerId: 'c1', outcome: 'ok', jobId: 'j1' },
      { type: 'completed', at: 400, proc: 'worker-0#1', jobId: 'j0', token: 1, outcome: 'ok' },
      { type: 'fault', at: 500, proc: 'runner', action: 'kill', target: 'producer#1', role: 'producer' },
    ];
    assert.deepEqual(recoveryTimes(history).map((r) => r.recoveryMs), [300, null]);
  });

  it('a struck producer recovers with its own add (any incarnation), a struck worker with its own ack, not the other clients\'', () => {
    const history: HistoryEvent[] = [
      { type: 'fault', at: 100, proc: 'runner', action: 'partition', target: 'producer-0#1', role: 'producer', how: 'drop' },
      { type: 'add', at: 150, proc: 'producer-1#1', callerId: 'c1', outcome: 'ok', jobId: 'j1' },
      { type: 'completed', at: 160, proc: 'worker-0#1', jobId: 'j0', token: 1, outcome: 'ok' },
      { type: 'fault', at: 200, proc: 'runner', action: 'kill', target: 'worker-1#1', role: 'worker' },
      { type: 'add', at: 700, proc: 'producer-0#1', callerId: 'c2', outcome: 'ok', jobId: 'j2' },
      { type: 'completed', at: 800, proc: 'worker-0#1', jobId: 'j1', token: 1, outcome: 'ok' },
      { type: 'completed', at: 1200, proc: 'worker-1#2', jobId: 'j2', token: 1, outcome: 'ok' },
    ];
    assert.deepEqual(recoveryTimes(history).map((r) => r.recoveryMs), [600, 1000]);
  });

  it('measures the time back after a restart: from the next incarnation being ready to an add and an ack both after it', () => {
    const history: HistoryEvent[] = [
      { type: 'fault', at: 100, proc: 'runner', action: 'kill', target: 'postgres#1', role: 'postgres' },
      { type: 'add', at: 120, proc: 'producer#1', callerId: 'c0', outcome: 'ok', jobId: 'j0' },
      { type: 'fault', at: 300, proc: 'runner', action: 'start', target: 'postgres#2', role: 'postgres' },
      // Another process's readiness is not the restart of postgres.
      { type: 'fault', at: 400, proc: 'runner', action: 'ready', target: 'broker-0#2', role: 'broker' },
      { type: 'fault', at: 900, proc: 'runner', action: 'ready', target: 'postgres#2', role: 'postgres' },
      { type: 'completed', at: 1000, proc: 'worker-0#1', jobId: 'j0', token: 1, outcome: 'ok' },
      { type: 'add', at: 1250, proc: 'producer#1', callerId: 'c1', outcome: 'ok', jobId: 'j1' },
      { type: 'fault', at: 2000, proc: 'runner', action: 'stop', target: 'worker-0#1', role: 'worker' },
    ];
    const r = recoveryTimes(history);
    assert.deepEqual(r.map((x) => [x.recoveryMs, x.readyAt, x.backAfterRestartMs]), [[900, 900, 350], [null, null, null]]);
  });

  it('counts a duplicate across a PostgreSQL stop as in flight at a kill', () => {
    const history = [invoke('c1'), added('c1', 'j1'), delivered('j1', 'c1', 1), kill('postgres#1', 'postgres'), acked('j1', 1, 'unknown'), delivered('j1', 'c1', 2, 'worker-1#1'), acked('j1', 2, 'ok', 'worker-1#1')];
    const r = check(history, [done('j1', 'c1', 2)]);
    assert.equal(r.ok, true, r.reasons.join('; '));
    assert.deepEqual(r.duplicateCauses, { 'in-flight-at-kill': 1, 'lease-expired': 0 });
  });
});
