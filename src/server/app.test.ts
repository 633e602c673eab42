import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { testPgUrl, uniqueSchema } from '../../test/support/pg-url.ts';
import { ManualClock } from '../core/clock.ts';
import { Spool } from '../engine/spool.ts';
import { buildHttpApi, routesOf } from './app.ts';
import { isDashboardRoute } from './dashboard.ts';

const exec = promisify(execFile);
let spool: Spool;
let base: string;
let close: () => Promise<void>;
let app: ReturnType<typeof buildHttpApi>;

before(async () => {
  spool = await Spool.open({ store: 'memory', payloadMaxBytes: 4096 });
  app = buildHttpApi(spool, { bodyMaxBytes: 64 * 1024 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
  close = async () => {
    await app.close();
    await spool.close();
  };
});
after(() => close());

async function call(method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  return { status: res.status, json: await res.json() };
}

describe('HTTP API (real sockets)', () => {
  it('health and readiness', async () => {
    assert.deepEqual(await call('GET', '/healthz'), { status: 200, json: { status: 'ok' } });
    assert.deepEqual(await call('GET', '/readyz'), { status: 200, json: { ready: true, reason: null } });
  });

  it('request/reply over HTTP alone: add, then a waitJob long poll answered when the job is acked', async () => {
    const added = await call('POST', '/v1/queues/http-rr/jobs', { payload: { n: 2 } });
    assert.deepEqual((await call('GET', `/v1/jobs/${added.json.id}/wait`)).json.finished, false, 'waitMs 0: look once');
    const waiting = call('GET', `/v1/jobs/${added.json.id}/wait?waitMs=20000`);
    const got = await call('POST', '/v1/queues/http-rr/receive', { max: 1 });
    const job = got.json.jobs[0];
    await call('POST', '/v1/ack', { leases: [{ jobId: job.id, token: job.leaseToken, result: { doubled: 4 } }] });
    const answer = await waiting;
    assert.equal(answer.status, 200);
    assert.equal(answer.json.finished, true);
    assert.deepEqual([answer.json.job.state, answer.json.job.result], ['completed', { doubled: 4 }]);
    const tooLong = await call('GET', `/v1/jobs/${added.json.id}/wait?waitMs=20001`);
    assert.deepEqual([tooLong.status, tooLong.json.code], [400, 'INVALID_ARGUMENT'], "beyond this broker's receiveWaitMaxMs");
  });

  it('add, get, receive, ack; a second ack is refused per item', async () => {
    const added = await call('POST', '/v1/queues/http/jobs', { payload: { to: 'a@example.com' }, priority: 2 });
    assert.equal(added.status, 201);
    assert.equal((await call('GET', `/v1/jobs/${added.json.id}`)).json.state, 'ready');
    const got = await call('POST', '/v1/queues/http/receive', { max: 10 });
    assert.equal(got.json.jobs.length, 1);
    const job = got.json.jobs[0];
    assert.deepEqual(job.payload, { to: 'a@example.com' });
    const ack = await call('POST', '/v1/ack', { leases: [{ jobId: job.id, token: job.leaseToken, result: { sent: true } }] });
    assert.deepEqual(ack.json.results, [{ jobId: job.id, ok: true }]);
    const again = await call('POST', '/v1/ack', { leases: [{ jobId: job.id, token: job.leaseToken }] });
    assert.equal(again.status, 200);
    assert.equal(again.json.results[0].ok, false);
    assert.equal(again.json.results[0].error.code, 'STALE_LEASE');
    assert.equal(again.json.results[0].error.currentState, 'completed', 'an error carries its fields, as on the WebSocket');
    assert.deepEqual((await call('GET', `/v1/jobs/${job.id}`)).json.result, { sent: true });
  });

  it('a batch add, nack with retry, extend, cancel, retry and stats', async () => {
    const batch = await call('POST', '/v1/queues/ops/jobs', { jobs: [{ payload: 1 }, { payload: 2 }] });
    assert.equal(batch.json.jobs.length, 2);
    const [a, b] = (await call('POST', '/v1/queues/ops/receive', { max: 2 })).json.jobs;
    const ext = await call('POST', '/v1/extend', { leases: [{ jobId: a.id, token: a.leaseToken, leaseMs: 60_000 }] });
    assert.equal(ext.json.results[0].ok, true);
    const nack = await call('POST', '/v1/nack', { leases: [{ jobId: b.id, token: b.leaseToken, error: 'boom', unrecoverable: true }] });
    assert.deepEqual(nack.json.results[0].value, { state: 'dead' });
    assert.equal((await call('POST', `/v1/jobs/${b.id}/retry`)).json.state, 'ready');
    assert.equal((await call('POST', `/v1/jobs/${b.id}/cancel`)).json.state, 'cancelled');
    const stats = await call('GET', '/v1/queues/ops/stats');
    assert.equal(stats.json.counts.active, 1);
    assert.equal(stats.json.counts.cancelled, 1);
  });

  it('queues: configure, list, pause and resume, and jobs page by page', async () => {
    const cfg = await call('PUT', '/v1/queues/admin', { maxAttempts: 7, backoff: { type: 'fixed', delayMs: 10 } });
    assert.equal(cfg.json.config.maxAttempts, 7);
    assert.equal((await call('GET', '/v1/queues/admin')).json.config.backoff.delayMs, 10);
    assert.equal((await call('PUT', '/v1/queues/admin', { visibilityTimeoutMs: 1 })).status, 400);
    await call('POST', '/v1/queues/admin/jobs', { jobs: Array.from({ length: 5 }, (_, i) => ({ payload: i })) });
    assert.equal((await call('POST', '/v1/queues/admin/pause')).json.paused, true);
    assert.deepEqual((await call('POST', '/v1/queues/admin/receive', { max: 5 })).json.jobs, [], 'a paused queue delivers nothing');
    assert.equal((await call('POST', '/v1/queues/admin/resume')).json.paused, false);
    assert.ok((await call('GET', '/v1/queues')).json.queues.some((q: { queue: string }) => q.queue === 'admin'));
    const first = await call('GET', '/v1/queues/admin/jobs?state=ready&limit=3');
    assert.equal(first.json.jobs.length, 3);
    const second = await call('GET', `/v1/queues/admin/jobs?state=ready&limit=3&after=${first.json.next}`);
    assert.deepEqual(second.json.jobs.map((j: { payload: number }) => j.payload), [3, 4]);
    assert.equal(second.json.next, null);
    assert.equal((await call('GET', '/v1/queues/admin/jobs?limit=abc')).status, 400);
    assert.deepEqual((await call('POST', '/v1/queues/admin/purge')).json, { purged: 5 });
  });

  it('resource tags: an add requires them, a receive offers them; a receive without them takes only jobs without requires', async () => {
    const gpu = await call('POST', '/v1/queues/tagged/jobs', { payload: 'g', requires: ['region:eu', 'gpu'] });
    assert.equal(gpu.status, 201);
    assert.deepEqual(gpu.json.requires, ['gpu', 'region:eu']);
    const plain = await call('POST', '/v1/queues/tagged/jobs', { payload: 'p' });
    assert.deepEqual((await call('POST', '/v1/queues/tagged/receive', { max: 10 })).json.jobs.map((j: { id: string }) => j.id), [plain.json.id]);
    assert.deepEqual((await call('POST', '/v1/queues/tagged/receive', { max: 10, tags: ['gpu'] })).json.jobs, [], 'gpu alone is not enough');
    assert.deepEqual((await call('POST', '/v1/queues/tagged/receive', { max: 10, tags: ['gpu', 'region:eu'] })).json.jobs.map((j: { id: string }) => j.id), [gpu.json.id]);
    const bad = await call('POST', '/v1/queues/tagged/jobs', { payload: 'x', requires: ['no spaces'] });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'requires');
    assert.equal((await call('GET', '/v1/queues/tagged/stats')).json.unservable, 0);
  });

  it('long poll: a waiting receive gets a job added after it began', async () => {
    // The wait is the longest allowed; an answer well before its end can only come from the add.
    const t = Date.now();
    const waiting = call('POST', '/v1/queues/lp/receive', { max: 5, waitMs: 20_000 });
    await new Promise((r) => setTimeout(r, 100));
    await call('POST', '/v1/queues/lp/jobs', { payload: 'late' });
    const got = await waiting;
    assert.equal(got.json.jobs.length, 1);
    assert.ok(Date.now() - t < 15_000, 'delivered when added, not at the end of the wait');
    const empty = await call('POST', '/v1/queues/lp-empty/receive', { waitMs: 50 });
    assert.deepEqual(empty.json.jobs, []);
  });

  it('long poll on a rate-limited queue: a waiting receive gets the job when the next token is due', async () => {
    const clock = new ManualClock();
    const limited = await Spool.open({ store: 'memory', clock, pollIntervalMs: 60_000, maintenanceIntervalMs: 60_000 });
    const api = buildHttpApi(limited);
    await api.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(api.server.address() as { port: number }).port}/v1/queues/slow/receive`;
      const receive = async (body: unknown) => (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { jobs: { payload: unknown }[] };
      await limited.queue('slow').configure({ rateLimit: { rate: 1, perMs: 60_000 } });
      await limited.queue('slow').addMany([{ payload: 1 }, { payload: 2 }]);
      assert.deepEqual((await receive({ max: 5 })).jobs.map((j) => j.payload), [1], 'the burst of 1');
      assert.deepEqual((await receive({ max: 5 })).jobs, [], 'no token: nothing, the job stays ready');
      const waiting = receive({ max: 5, waitMs: 20_000 });
      // Once the receive waits (its subscription is open), the token falls due on the manual clock.
      while (!limited.consumerSlots().has('slow')) await new Promise((r) => setTimeout(r, 5));
      await clock.advance(60_000);
      assert.deepEqual((await waiting).jobs.map((j) => j.payload), [2]);
    } finally {
      await api.close();
      await limited.close();
    }
  });

  it("a client's mistakes are 4xx with { code, message }, never 5xx", async () => {
    const cases: [string, string, unknown, string | undefined, number, string][] = [
      ['POST', '/v1/queues/q/jobs', undefined, '{not json', 400, 'INVALID_ARGUMENT'],
      ['POST', '/v1/queues/q/jobs', { nope: 1 }, undefined, 400, 'INVALID_ARGUMENT'],
      ['POST', '/v1/queues/bad name/jobs', { payload: 1 }, undefined, 400, 'INVALID_ARGUMENT'],
      ['POST', '/v1/queues/q/jobs', { payload: 'x'.repeat(5000) }, undefined, 413, 'PAYLOAD_TOO_LARGE'],
      ['POST', '/v1/queues/q/jobs', { payload: 'x'.repeat(70_000) }, undefined, 413, 'PAYLOAD_TOO_LARGE'],
      ['POST', '/v1/queues/q/jobs', { payload: 1, delayMs: -1 }, undefined, 400, 'INVALID_ARGUMENT'],
      ['GET', '/v1/jobs/01900000-0000-7000-8000-000000000000', undefined, undefined, 404, 'JOB_NOT_FOUND'],
      ['GET', '/v1/jobs/not-an-id', undefined, undefined, 400, 'INVALID_ARGUMENT'],
      ['POST', '/v1/queues/q/receive', { max: 0 }, undefined, 400, 'INVALID_ARGUMENT'],
      ['POST', '/v1/queues/q/receive', { waitMs: 10_000_000 }, undefined, 400, 'INVALID_ARGUMENT'],
      ['POST', '/v1/ack', { leases: [{ jobId: 'x' }] }, undefined, 400, 'INVALID_ARGUMENT'],
      ['GET', '/v1/nothing-here', undefined, undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, body, raw, status, code] of cases) {
      const r = await call(method, path, body, raw);
      assert.equal(r.status, status, `${method} ${path} ${raw ?? JSON.stringify(body)?.slice(0, 40)}: ${JSON.stringify(r.json).slice(0, 200)}`);
      assert.equal(r.json.code, code);
      assert.equal(typeof r.json.message, 'string');
    }
    assert.equal((await call('GET', '/healthz')).status, 200, 'still serving');
  });

  it('strict input: a misspelled or conflicting field is a 400 naming it, never silently dropped', async () => {
    const typo = await call('POST', '/v1/queues/strict/jobs', { payload: 1, delay: 5000 });
    assert.deepEqual([typo.status, typo.json.code, typo.json.field], [400, 'INVALID_ARGUMENT', 'delay']);
    assert.match(typo.json.message, /unknown field "delay"; did you mean "delayMs"\?/);
    const both = await call('POST', '/v1/queues/strict/jobs', { payload: 1, jobs: [{ payload: 2 }] });
    assert.equal(both.status, 400);
    assert.match(both.json.message, /"payload" \(one job.*or "jobs" \(a batch/);
    assert.equal((await call('POST', '/v1/queues/strict/jobs', { payload: 1, delayMs: 10, runAt: Date.now() })).status, 400);
    const setting = await call('PUT', '/v1/queues/strict', { visibiltyTimeoutMs: 1000 });
    assert.deepEqual([setting.status, setting.json.field], [400, 'visibiltyTimeoutMs']);
    assert.equal((await call('GET', '/v1/queues/strict/jobs?state=nope')).status, 400);
    assert.equal((await call('GET', '/v1/queues/strict/stats')).json.code, 'QUEUE_NOT_FOUND', 'nothing was added, not even the queue');
    await call('POST', '/v1/queues/strict/jobs', { payload: 1 });
    const page = await call('GET', '/v1/queues/strict/jobs?after=');
    assert.deepEqual([page.status, page.json.jobs.length], [200, 1], 'an empty cursor is no cursor');
  });

  it('a payload with a "__proto__" key is data: stored and returned as sent', async () => {
    const raw = '{"payload":{"__proto__":{"polluted":true},"a":1}}';
    const added = await call('POST', '/v1/queues/proto/jobs', undefined, raw);
    assert.equal(added.status, 201, JSON.stringify(added.json));
    const got = await fetch(`${base}/v1/jobs/${added.json.id}`).then((r) => r.text());
    assert.ok(got.includes('"payload":{"__proto__":{"polluted":true},"a":1}'), got);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const top = await call('POST', '/v1/queues/proto/jobs', undefined, '{"payload":1,"__proto__":{"x":1}}');
    assert.deepEqual([top.status, top.json.field], [400, '__proto__'], 'at the top level it is an unknown field');
  });

  it('bodiless requests: POST without a body (with or without a JSON content type), and 415 names the type to send', async () => {
    await call('POST', '/v1/queues/bodiless/jobs', { payload: 1 });
    const res = await fetch(`${base}/v1/queues/bodiless/pause`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${base}/v1/queues/bodiless/resume`, { method: 'POST' })).status, 200);
    const form = await fetch(`${base}/v1/queues/bodiless/jobs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(form.status, 415);
    assert.match(((await form.json()) as { message: string }).message, /application\/json/);
  });

  it('delete a job, delete a queue (refused while jobs run), and bulk actions with a cursor', async () => {
    const added = await call('POST', '/v1/queues/ops2/jobs', { jobs: Array.from({ length: 5 }, (_, i) => ({ payload: i, name: i % 2 ? 'odd' : 'even' })) });
    const [first] = added.json.jobs;
    assert.deepEqual((await call('DELETE', `/v1/jobs/${first.id}`)).json, { id: first.id, deleted: true });
    assert.equal((await call('GET', `/v1/jobs/${first.id}`)).status, 404);
    const page1 = await call('POST', '/v1/queues/ops2/bulk', { action: 'cancel', name: 'even', limit: 1 });
    assert.deepEqual([page1.json.matched, page1.json.changed], [1, 1]);
    const page2 = await call('POST', '/v1/queues/ops2/bulk', { action: 'cancel', name: 'even', limit: 1, after: page1.json.next });
    assert.deepEqual([page2.json.changed, page2.json.next], [1, page2.json.next]);
    const rest = await call('POST', '/v1/queues/ops2/bulk', { action: 'cancel', name: 'even', after: page2.json.next });
    assert.deepEqual([rest.json.matched, rest.json.next], [0, null]);
    assert.equal((await call('GET', '/v1/queues/ops2/stats')).json.counts.cancelled, 2);
    assert.equal((await call('POST', '/v1/queues/ops2/bulk', { action: 'explode' })).status, 400);
    await call('POST', '/v1/queues/ops2/receive', { max: 1 });
    const busy = await call('DELETE', '/v1/queues/ops2');
    assert.deepEqual([busy.status, busy.json.code], [409, 'INVALID_STATE']);
    const forced = await call('DELETE', '/v1/queues/ops2?force=true');
    assert.deepEqual(forced.json, { name: 'ops2', jobsDeleted: 4 });
    const gone = await call('GET', '/v1/queues/ops2/stats');
    assert.deepEqual([gone.status, gone.json.code, gone.json.queue], [404, 'QUEUE_NOT_FOUND', 'ops2']);
  });

  it('serves an OpenAPI 3.1 document that names every route', async () => {
    const doc = (await call('GET', '/openapi.json')).json;
    assert.equal(doc.openapi, '3.1.0');
    const documented = new Set(Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    // The dashboard's page and files are served beside the API, not part of it.
    const served = routesOf(app).filter((r) => r.method !== 'HEAD' && !isDashboardRoute(r.url)).map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    assert.ok(served.length >= 12);
    for (const route of served) assert.ok(documented.has(route), `${route} is served but not in docs/openapi.json`);
    for (const route of documented) assert.ok(served.includes(route), `${route} is documented but not served`);
  });

  it('curl alone can add, receive and ack', async () => {
    const curl = async (...args: string[]) => JSON.parse((await exec('curl', ['-sS', '-H', 'content-type: application/json', ...args])).stdout);
    const added = await curl('-X', 'POST', `${base}/v1/queues/curl/jobs`, '-d', '{"payload":{"hello":"curl"}}');
    const { jobs } = await curl('-X', 'POST', `${base}/v1/queues/curl/receive`, '-d', '{"max":1,"waitMs":1000}');
    assert.equal(jobs[0].id, added.id);
    const acked = await curl('-X', 'POST', `${base}/v1/ack`, '-d', JSON.stringify({ leases: [{ jobId: jobs[0].id, token: jobs[0].leaseToken }] }));
    assert.equal(acked.results[0].ok, true);
    assert.equal((await curl(`${base}/v1/jobs/${added.id}`)).state, 'completed');
  });
});

describe('HTTP API: values no store can keep', () => {
  /** Raw JSON bodies: `\u0000` and `\ud800` as JSON escapes, which JSON.parse turns into U+0000 and a lone surrogate. */
  async function checkBroker(spool: Spool): Promise<void> {
    const api = buildHttpApi(spool, { bodyMaxBytes: 64 * 1024 });
    await api.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
      const send = async (path: string, raw: string) => {
        const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
        return { status: res.status, json: (await res.json()) as any };
      };
      const refused: [string, string, RegExp][] = [
        ['{"payload":{"user":{"name":"a\\u0000b"}}}', 'payload', /^payload\.user\.name contains the character U\+0000 \(NUL\)/],
        ['{"payload":{"items":[0,"\\ud800"]}}', 'payload', /^payload\.items\[1\] contains an unpaired surrogate \(\\ud800\)/],
        ['{"payload":{"\\u0000":1}}', 'payload', /^the key "\\u0000" of payload contains the character U\+0000/],
        ['{"jobs":[{"payload":1},{"payload":"\\udc00"}]}', 'payload', /^items\[1\]: payload contains an unpaired surrogate/],
        ['{"payload":1,"name":"a\\u0000"}', 'name', /^job name "a\\u0000" contains the character U\+0000/],
      ];
      for (const [raw, field, message] of refused) {
        const r = await send('/v1/queues/enc/jobs', raw);
        assert.equal(r.status, 400, `${raw}: ${JSON.stringify(r.json)}`);
        assert.equal(r.json.code, 'INVALID_ARGUMENT');
        assert.equal(r.json.field, field);
        assert.match(r.json.message, message);
      }
      assert.equal(await spool.store.queueGet('enc'), null, 'nothing was stored, not even the queue');

      assert.equal((await send('/v1/queues/enc/jobs', '{"jobs":[{"payload":1},{"payload":2}]}')).status, 201);
      const [a, b] = (await send('/v1/queues/enc/receive', '{"max":2}')).json.jobs;
      // A result no store can keep is refused for its item, with 200 for the request; the lease still works.
      const ack = await send('/v1/ack', `{"leases":[{"jobId":"${a.id}","token":${a.leaseToken},"result":{"r":"\\u0000"}}]}`);
      assert.equal(ack.status, 200);
      assert.equal(ack.json.results[0].ok, false);
      assert.equal(ack.json.results[0].error.code, 'INVALID_ARGUMENT');
      assert.equal(ack.json.results[0].error.field, 'result');
      const again = await send('/v1/ack', `{"leases":[{"jobId":"${a.id}","token":${a.leaseToken},"result":{"r":"ok"}}]}`);
      assert.equal(again.json.results[0].ok, true);
      // An error text is stored with U+0000 and lone surrogates replaced, never refused.
      const nack = await send('/v1/nack', `{"leases":[{"jobId":"${b.id}","token":${b.leaseToken},"error":"bad\\u0000byte\\ud800"}]}`);
      assert.equal(nack.json.results[0].ok, true, JSON.stringify(nack.json));
      assert.equal((await spool.get(b.id)).lastError, 'bad\ufffdbyte\ufffd');
    } finally {
      await api.close();
    }
  }

  it('SQLite: a payload, result or job name with U+0000 or a lone surrogate is a 400 naming the path, not stored', async () => {
    const spool = await Spool.open({ store: 'memory' });
    try {
      await checkBroker(spool);
    } finally {
      await spool.close();
    }
  });

  it('PostgreSQL: the same 400s, never a 500 from the database', async () => {
    const spool = await Spool.open({ store: testPgUrl(), schema: uniqueSchema(), maintenance: false });
    try {
      await checkBroker(spool);
    } finally {
      await spool.close();
    }
  });
});
