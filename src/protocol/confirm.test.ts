import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compactConfirm, expandConfirm } from './confirm.ts';
import type { PublishedJob } from './frames.ts';

/** A stored job as an add answers it, without its payload: fields drawn from small sets, so batches have alike and unlike jobs. */
const job: fc.Arbitrary<PublishedJob> = fc
  .record({
    id: fc.uuid(),
    priority: fc.constantFrom(0, 0, 0, 5),
    state: fc.constantFrom('ready', 'ready', 'scheduled'),
    runAt: fc.constantFrom(1000, 1000, 61_000),
    maxAttempts: fc.constantFrom(5, 5, 2),
    trace: fc.constantFrom(null, null, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
    requires: fc.constantFrom([], [], ['gpu']),
    group: fc.constantFrom(null, 'eu'),
    // Optional fields: a duplicate carries its own payload; a flow parent its children's results.
    duplicate: fc.option(fc.record({ payload: fc.jsonValue() }), { freq: 5 }),
    childResults: fc.option(fc.constant([{ id: 'c', queue: 'q', state: 'completed' }]), { freq: 6 }),
  })
  .map(({ duplicate, childResults, ...fields }) => ({
    queue: 'q', name: 'default', attempt: 0, stalls: 0, maxStalls: 3, leaseToken: 0, leaseExpiresAt: null, createdAt: 1000, updatedAt: 1000,
    finishedAt: null, lastError: null, result: null, deadReason: null, history: [], timeoutMs: 0, progress: null, expiresAt: null, cost: null, concurrencyKey: null,
    ...fields,
    ...(duplicate ? { duplicate: true, payload: duplicate.payload } : {}),
    ...(childResults ? { childResults } : {}),
  }) as unknown as PublishedJob);

describe('the compact confirm of an atomic publish', () => {
  it('rebuilds every batch exactly, through JSON as the wire carries it', () => {
    fc.assert(
      fc.property(fc.array(job, { minLength: 1, maxLength: 30 }), (jobs) => {
        const sent = JSON.parse(JSON.stringify(jobs)) as PublishedJob[];
        const wire = JSON.parse(JSON.stringify(compactConfirm(sent)));
        assert.deepEqual(expandConfirm(wire), sent);
      }),
      { numRuns: 300 },
    );
  });

  it('sends alike jobs as their ids, and only what differs', () => {
    const [a, b, c] = fc.sample(job, { numRuns: 3, seed: 7 }).map((j) => ({ ...j, priority: 0, trace: null, requires: [], group: null }) as PublishedJob);
    const { duplicate: _d, payload: _p, childResults: _c, ...plain } = a as PublishedJob & { childResults?: unknown };
    const batch = [plain, { ...plain, id: b!.id }, { ...plain, id: c!.id, priority: 9 }] as PublishedJob[];
    assert.deepEqual(compactConfirm(batch).others, [{ id: b!.id }, { id: c!.id, priority: 9 }]);
  });

  it('gives each rebuilt job objects of its own', () => {
    const first = fc.sample(job, { numRuns: 1, seed: 3 })[0]!;
    const { duplicate: _d, payload: _p, ...plain } = first;
    const [one, two] = expandConfirm(compactConfirm([plain, { ...plain, id: 'x' }, { ...plain, id: 'y' }])).slice(1);
    one!.history.push({ attempt: 1, token: 1, startedAt: 1, endedAt: 2, outcome: 'completed' });
    assert.deepEqual(two!.history, []);
  });
});
