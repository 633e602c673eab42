import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Spool } from '../engine/spool.ts';
import { buildHttpApi } from './app.ts';

// The engine would hold an in-process add for up to 5 minutes: the HTTP route must not wait at all.
let spool: Spool;
let base: string;
let app: ReturnType<typeof buildHttpApi>;

before(async () => {
  spool = await Spool.open({ store: 'memory', queueFullWaitMs: 300_000, onError: () => {} });
  app = buildHttpApi(spool);
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
after(async () => {
  await app.close();
  await spool.close();
});

const post = (path: string, body: unknown) =>
  fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('HTTP add to a full bounded queue', () => {
  it('answers 429 QUEUE_FULL at once, with Retry-After, for a single add and for a batch; nothing is stored', async () => {
    await spool.configureQueue('shaved', { maxLength: 2 });
    assert.equal((await post('/v1/queues/shaved/jobs', { payload: 1 })).status, 201);
    assert.equal((await post('/v1/queues/shaved/jobs', { payload: 2 })).status, 201);

    const one = await post('/v1/queues/shaved/jobs', { payload: 3 });
    assert.equal(one.status, 429);
    assert.equal(one.headers.get('retry-after'), '1');
    const body = (await one.json()) as Record<string, any>;
    assert.deepEqual([body.code, body.queue, body.maxLength, body.retryAfterMs], ['QUEUE_FULL', 'shaved', 2, 1000]);
    assert.match(body.message, /queue shaved is full.*nothing was stored/);

    const batch = await post('/v1/queues/shaved/jobs', { jobs: [{ payload: 4 }] });
    assert.equal(batch.status, 429);
    assert.equal(((await batch.json()) as { code: string }).code, 'QUEUE_FULL');
    assert.equal((await spool.queue('shaved').stats()).length, 2);
  });

  it('takes the add again once a worker has taken a job', async () => {
    await spool.configureQueue('room', { maxLength: 1 });
    assert.equal((await post('/v1/queues/room/jobs', { payload: 1 })).status, 201);
    assert.equal((await post('/v1/queues/room/jobs', { payload: 2 })).status, 429);
    assert.equal((await spool.claim('room', 1)).length, 1);
    assert.equal((await post('/v1/queues/room/jobs', { payload: 2 })).status, 201);
  });
});
