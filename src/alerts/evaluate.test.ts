import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyCounts } from '../core/job.ts';
import type { QueueOverview } from '../model/overview.ts';
import { evaluateRule } from './evaluate.ts';
import type { AlertRule } from './rules.ts';

const rule = (over: Partial<AlertRule> = {}): AlertRule => ({
  id: 'r', queue: 'q', kind: 'utilisation', threshold: 0.8, forMs: 60_000, webhook: 'http://127.0.0.1/x', signed: false,
  state: 'ok', since: null, value: null, evaluatedAt: null, createdAt: 0, updatedAt: 7, ...over,
});
const queue = (utilisation: number | null, workers = 4): QueueOverview => ({
  queue: 'q', counts: emptyCounts(), oldestReadyAgeMs: 0, paused: false, length: 0, maxLength: null, overflow: 'reject', unservable: 0,
  model: { windowMs: 60_000, arrivalRate: 1, completionRate: 1, failureRate: 0, deadRate: 0, serviceTimeMs: 100, workers, utilisation, length: 0, meanWaitMs: null, drainEtaMs: null, dropRate: 0, dropped: 0 },
});

/** Runs the rule through the given (time, ρ) readings, as the leader would tick by tick. */
function run(readings: [number, number | null][], over: Partial<AlertRule> = {}): { states: string[]; events: string[] } {
  let r = rule(over);
  const states: string[] = [];
  const events: string[] = [];
  for (const [at, rho] of readings) {
    const e = evaluateRule(r, queue(rho), at);
    assert.equal(e.previous, r.state, 'each evaluation names the state it read');
    assert.equal(e.updatedAt, 7);
    r = { ...r, state: e.state, since: e.since, value: e.value };
    states.push(e.state);
    if (e.event) events.push(`${e.event.event}@${at}`);
  }
  return { states, events };
}

describe('evaluateRule: ρ above 0.8 for a minute', () => {
  it('fires once the condition held for forMs, not before, and only once', () => {
    const { states, events } = run([[0, 0.5], [1000, 0.9], [60_000, 0.95], [61_000, 0.9], [62_000, 0.99]]);
    assert.deepEqual(states, ['ok', 'pending', 'pending', 'firing', 'firing']);
    assert.deepEqual(events, ['firing@61000']);
  });

  it('a dip below the threshold while pending starts the minute again', () => {
    const { states, events } = run([[0, 0.9], [30_000, 0.7], [40_000, 0.9], [90_000, 0.9], [100_000, 0.9]]);
    assert.deepEqual(states, ['pending', 'ok', 'pending', 'pending', 'firing']);
    assert.deepEqual(events, ['firing@100000']);
  });

  it('resolves at the first reading at or under the threshold, and can fire again', () => {
    const { events } = run([[0, 0.9], [0, 0.9], [5000, 0.8], [6000, 0.9], [6000, 0.9]], { forMs: 0 });
    assert.deepEqual(events, ['firing@0', 'resolved@5000', 'firing@6000']);
  });

  it('no utilisation known (no workers or no service time yet) reads as 0', () => {
    assert.equal(evaluateRule(rule(), queue(null), 0).value, 0);
  });
});

describe('evaluateRule: the other kinds', () => {
  it('noWorkers fires on a queue without worker slots, or one that does not exist', () => {
    const r = rule({ kind: 'noWorkers', threshold: 0, forMs: 0 });
    assert.equal(evaluateRule(r, queue(null, 0), 0).state, 'firing');
    assert.equal(evaluateRule(r, undefined, 0).state, 'firing');
    assert.equal(evaluateRule(r, queue(null, 1), 0).state, 'ok');
  });

  it('oldestReadyAge and deadLetters compare the stats with the threshold', () => {
    const q = { ...queue(null), oldestReadyAgeMs: 61_000, counts: { ...emptyCounts(), dead: 3 } };
    assert.equal(evaluateRule(rule({ kind: 'oldestReadyAge', threshold: 60_000, forMs: 0 }), q, 0).state, 'firing');
    assert.equal(evaluateRule(rule({ kind: 'oldestReadyAge', threshold: 61_000, forMs: 0 }), q, 0).state, 'ok', 'above, not at');
    const dead = evaluateRule(rule({ kind: 'deadLetters', threshold: 2, forMs: 0 }), q, 0);
    assert.equal(dead.state, 'firing');
    assert.equal(dead.event!.reason, '3 dead jobs (threshold 2)');
  });

  it('deadRate fires while jobs go dead (dead letters growing) and resolves once none did for the window', () => {
    const growing = { ...queue(null), model: { ...queue(null).model, deadRate: 0.05 } };
    const r = rule({ kind: 'deadRate', threshold: 0, forMs: 0 });
    const fired = evaluateRule(r, growing, 0);
    assert.equal(fired.state, 'firing');
    assert.equal(fired.event!.reason, '3.0 jobs went dead per minute over the last minute (threshold 0/s)');
    const still = evaluateRule({ ...r, state: 'firing', since: 0 }, queue(null), 60_000);
    assert.deepEqual([still.state, still.event?.event], ['ok', 'resolved']);
  });
});
