import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Spool } from '../engine/spool.ts';
import { buildHttpApi } from './app.ts';

// Property: whatever JSON (or non-JSON) a client sends to any route, the broker answers
// with a status below 500 and a { code, message } body on errors, and keeps serving.
let spool: Spool;
let base: string;
let close: () => Promise<void>;

before(async () => {
  spool = await Spool.open({ store: 'memory', payloadMaxBytes: 4096, onError: () => {} });
  const app = buildHttpApi(spool, { bodyMaxBytes: 64 * 1024, receiveWaitMaxMs: 50 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  close = async () => {
    await app.close();
    await spool.close();
  };
});
after(() => close());

const routes = [
  ['POST', '/v1/queues/fuzz/jobs'],
  ['POST', '/v1/queues/fuzz/receive'],
  ['POST', '/v1/ack'],
  ['POST', '/v1/nack'],
  ['POST', '/v1/extend'],
  ['POST', '/v1/jobs/01900000-0000-7000-8000-000000000000/cancel'],
  ['POST', '/v1/jobs/not-an-id/retry'],
] as const;

/** JSON values shaped like requests: sometimes right, mostly wrong in one place. */
const leaseLike = fc.record({ jobId: fc.oneof(fc.uuid(), fc.string(), fc.integer()), token: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)), result: fc.jsonValue(), error: fc.oneof(fc.string(), fc.integer()), leaseMs: fc.oneof(fc.integer(), fc.string()) }, { requiredKeys: [] });
const body = fc.oneof(
  fc.jsonValue(),
  fc.record({ payload: fc.jsonValue(), priority: fc.oneof(fc.integer(), fc.double(), fc.string()), delayMs: fc.oneof(fc.integer(), fc.string()), maxAttempts: fc.integer(), name: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }),
  fc.record({ jobs: fc.array(fc.oneof(fc.jsonValue(), fc.record({ payload: fc.jsonValue() })), { maxLength: 20 }) }),
  fc.record({ max: fc.oneof(fc.integer(), fc.double(), fc.string()), waitMs: fc.oneof(fc.integer({ min: -10, max: 60 }), fc.string()) }, { requiredKeys: [] }),
  fc.record({ leases: fc.oneof(fc.array(leaseLike, { maxLength: 10 }), fc.jsonValue()) }),
);

describe('HTTP API under fuzzing (fast-check)', () => {
  it('never answers 5xx to any JSON body, and keeps serving', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, async ([method, path], value) => {
        const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
        const json = (await res.json()) as { code?: unknown; message?: unknown };
        assert.ok(res.status < 500, `${method} ${path} ${JSON.stringify(value).slice(0, 200)} → ${res.status} ${JSON.stringify(json)}`);
        if (res.status >= 400) assert.ok(typeof json.code === 'string' && typeof json.message === 'string');
      }),
      { numRuns: 400 },
    );
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  it('never answers 5xx to arbitrary bytes or content types', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.string({ maxLength: 300 }), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''), async ([method, path], raw, type) => {
        const res = await fetch(base + path, { method, headers: type ? { 'content-type': type } : {}, body: raw });
        assert.ok(res.status < 500, `${method} ${path} ${type} ${JSON.stringify(raw).slice(0, 100)} → ${res.status} ${await res.text()}`);
      }),
      { numRuns: 300 },
    );
  });
});
