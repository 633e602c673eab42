import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Job } from '../core/job.ts';
import { compactConfirm, expandConfirm, withoutPayload } from './confirm.ts';

/** A stored job as an add answers it: fields drawn from small sets, so batches have alike and unlike jobs. */
const job: fc.Arbitrary<Job> = fc
  .record({
    id: fc.uuid(),
    priority: fc.constantFrom(0, 0, 0, 5),
    state: fc.constantFrom('ready', 'ready', 'scheduled'),
    runAt: fc.constantFrom(1000, 1000, 61_000),
    maxAttempts: fc.constantFrom(5, 5, 2),
    trace: fc.constantFrom(null, null, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
    requires: fc.constantFrom([], [], ['gpu']),
    group: fc.constantFrom(null, 'eu'),
    payload: fc.jsonValue(),
    // Optional fields: a duplicate (its payload is the holder's, sent back); a flow parent's children's results.
    duplicate: fc.option(fc.constant(true), { freq: 5 }),
    childResults: fc.option(fc.constant([{ id: 'c', queue: 'q', state: 'completed' }]), { freq: 6 }),
  })
  .map(({ duplicate, childResults, ...fields }) => ({
    queue: 'q', name: 'default', attempt: 0, stalls: 0, maxStalls: 3, leaseToken: 0, leaseExpiresAt: null, createdAt: 1000, updatedAt: 1000,
    finishedAt: null, lastError: null, result: null, deadReason: null, history: [], timeoutMs: 0, progress: null, expiresAt: null, cost: null, concurrencyKey: null,
    ...fields,
    ...(duplicate ? { duplicate: true } : {}),
    ...(childResults ? { childResults } : {}),
  }) as unknown as Job);

describe('the compact confirm of an atomic publish', () => {
  it('rebuilds every batch exactly, through JSON as the wire carries it', () => {
    fc.assert(
      fc.property(fc.array(job, { minLength: 1, maxLength: 30 }), (jobs) => {
        const stored = JSON.parse(JSON.stringify(jobs)) as Job[];
        const wire = JSON.parse(JSON.stringify(compactConfirm(stored)));
        assert.deepEqual(expandConfirm(wire), stored.map(withoutPayload));
      }),
      { numRuns: 300 },
    );
  });

  it('sends alike jobs as their ids, and only what differs', () => {
    const [a, b, c] = fc.sample(job, { numRuns: 3, seed: 7 }).map((j) => ({ ...j, priority: 0, trace: null, requires: [], group: null }) as Job);
    const { duplicate: _d, childResults: _c, ...plain } = a!;
    const batch: Job[] = [plain, { ...plain, id: b!.id, payload: 'other' }, { ...plain, id: c!.id, priority: 9 }];
    assert.deepEqual(compactConfirm(batch).others, [{ id: b!.id }, { id: c!.id, priority: 9 }]);
  });

  it('gives each rebuilt job objects of its own', () => {
    const first = fc.sample(job, { numRuns: 1, seed: 3 })[0]!;
    const { duplicate: _d, ...plain } = first;
    const [one, two] = expandConfirm(compactConfirm([plain, { ...plain, id: 'x' }, { ...plain, id: 'y' }])).slice(1);
    one!.history.push({ attempt: 1, token: 1, startedAt: 1, endedAt: 2, outcome: 'completed' });
    assert.deepEqual(two!.history, []);
  });
});
