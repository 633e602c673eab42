import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../core/clock.ts';
import { StoreUnavailableError } from '../core/errors.ts';
import { Health } from '../core/health.ts';
import { OUTAGE_AFTERMATH_MS, OutageReporter } from './outages.ts';

/** A reporter on a manual clock, and the health lines it caused. */
function setup(): { clock: ManualClock; health: Health; outages: OutageReporter; lines: string[]; errors: string[] } {
  const clock = new ManualClock();
  const lines: string[] = [];
  const errors: string[] = [];
  const health = new Health(clock, (line) => lines.push(line));
  const outages = new OutageReporter(clock, health, (err, during) => errors.push(`${during}: ${(err as Error).message}`));
  return { clock, health, outages, lines, errors };
}

const gone = () => new StoreUnavailableError('the database is unreachable');

describe('OutageReporter: a store outage is one line when it starts and one when it ends', () => {
  it('many failed probes during one outage are one line', () => {
    const { outages, lines, errors } = setup();
    for (let i = 0; i < 5; i++) outages.probeFailed(gone(), 'claim');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /unhealthy: claim: the database is unreachable/);
    assert.equal(errors.length, 1, 'the custom onError hears the outage once');
  });

  it('after a recovery, a probe that began before it, or failed within the aftermath, is a leftover; one after it is a new outage', () => {
    const { clock, health, outages, lines } = setup();
    outages.probeFailed(gone(), 'heartbeat');
    clock.advance(10_000);
    const before = clock.now() - 1;
    assert.equal(health.up(), true);
    assert.equal(lines.length, 2);

    outages.probeFailed(gone(), 'claim', before);
    clock.advance(OUTAGE_AFTERMATH_MS - 1);
    // Began after the recovery, on a connection the old server left broken.
    outages.probeFailed(gone(), 'maintenance', clock.now());
    outages.probeFailed(gone(), 'maintenance');
    assert.equal(health.healthy, true);
    assert.equal(lines.length, 2, 'no new line for the leftovers');

    clock.advance(1);
    outages.probeFailed(gone(), 'heartbeat', clock.now());
    assert.equal(health.healthy, false, 'a store gone again after the aftermath is a new outage');
    assert.equal(lines.length, 3);
  });

  it('other errors go to onError; a store outage met by a non-probe call is left to the next probe', () => {
    const { outages, lines, errors } = setup();
    outages.report(gone(), 'ack');
    outages.report(new Error('boom'), 'flow sweep');
    assert.deepEqual(lines, []);
    assert.deepEqual(errors, ['flow sweep: boom']);
  });
});
