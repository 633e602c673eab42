/**
 * WebSocket authentication and authorization, `required` mode, over real sockets: a
 * missing or bad token is refused at hello (error, then close 4401) or at the upgrade
 * (HTTP 401); a token may come in the upgrade's header or in `hello` (browsers). Then
 * every frame type and every call method, sent as raw frames with tokens of four
 * scopes on queue `orders.eu`, is allowed or FORBIDDEN as the matching HTTP route
 * answers the same token — the two are compared call by call, and both against a table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { ForbiddenError, UnauthorizedError, type SpoolError } from '../../core/errors.ts';
import { Spool } from '../../engine/spool.ts';
import { connect } from '../../client/connect.ts';
import { CLOSE, SUBPROTOCOL, type ErrorFrame, type OkFrame } from '../../protocol/frames.ts';
import { RawWs } from '../../../test/support/raw-ws.ts';
import { Authenticator } from '../auth/authenticator.ts';
import { createToken } from '../auth/tokens.ts';
import { startBroker, type Broker } from '../broker.ts';

const Q = 'orders.eu';
const UNKNOWN_JOB = '01900000-0000-7000-8000-000000000000';
const SCOPED = { publishOrders: ['publish:orders.*'], consumeOrders: ['consume:orders.*'], publishOther: ['publish:other'], admin: ['admin'] } as const;
type Scoped = keyof typeof SCOPED;
const WHO = Object.keys(SCOPED) as Scoped[];
const quiet = { onError: () => {}, log: () => {} };

let spool: Spool;
let broker: Broker;
const tokens = {} as Record<Scoped | 'revoked', string>;
const sessions = {} as Record<Scoped, RawWs>;

before(async () => {
  spool = await Spool.open({ store: 'memory', maintenance: false, ...quiet });
  broker = await startBroker(spool, { port: 0, auth: new Authenticator(spool.store, { mode: 'required' }) });
  for (const who of WHO) tokens[who] = (await createToken(spool.store, { name: who, scopes: [...SCOPED[who]] })).token;
  const revoked = await createToken(spool.store, { name: 'revoked', scopes: ['admin'] });
  await spool.store.tokensDelete([revoked.id]);
  tokens.revoked = revoked.token;
  await spool.queue('other').add('so that publish:other has a queue to see');
  for (const who of WHO) sessions[who] = await RawWs.open(broker.wsUrl, { token: tokens[who] });
});
after(async () => {
  for (const s of Object.values(sessions)) await s.close();
  await broker.close();
  await spool.close();
});

/** The broker's HTTP answer to an upgrade it refuses, or 101 when it accepts (the socket is closed again). */
function upgrade(headers: Record<string, string>): Promise<{ status: number; header: string | undefined; body: any }> {
  const ws = new WebSocket(broker.wsUrl, SUBPROTOCOL, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, header: undefined, body: null });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        resolve({ status: res.statusCode!, header: res.headers['www-authenticate'] as string | undefined, body: JSON.parse(text) });
        ws.terminate();
      });
    });
    ws.once('error', reject);
  });
}

async function http(who: Scoped, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(broker.url + path, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

describe('WebSocket authentication (required mode)', () => {
  it('no token at all: the upgrade is accepted, hello is refused with UNAUTHORIZED, then close 4401', async () => {
    const raw = await RawWs.open(broker.wsUrl, { hello: false });
    raw.send({ op: 'hello', v: 1 });
    const refusal = await raw.next();
    assert.equal(refusal.op, 'error');
    assert.equal(refusal.id, undefined);
    assert.equal(refusal.error.code, 'UNAUTHORIZED');
    assert.match(refusal.error.message, /no API token was sent/);
    assert.deepEqual(await raw.closed, { code: CLOSE.unauthorized, reason: 'unauthorized' });
  });

  it('an unknown, revoked or malformed token in hello is refused the same way', async () => {
    for (const token of ['spool_0123456789ab_not-a-real-secret-at-all-000000000000000000', tokens.revoked, 'garbage', '']) {
      const raw = await RawWs.open(broker.wsUrl, { hello: false });
      raw.send({ op: 'hello', v: 1, token });
      const refusal = await raw.next();
      assert.deepEqual([refusal.op, refusal.error.code], ['error', 'UNAUTHORIZED'], token);
      assert.equal((await raw.closed).code, CLOSE.unauthorized, token);
    }
  });

  it('requests before a successful hello are refused with HELLO_REQUIRED and do nothing', async () => {
    const raw = await RawWs.open(broker.wsUrl, { hello: false });
    const reply = await raw.request({ op: 'publish', queue: 'before-hello', jobs: [{ payload: 1 }] });
    assert.deepEqual([reply.op, reply.error.code], ['error', 'HELLO_REQUIRED']);
    await raw.close();
    assert.equal(await spool.store.queueGet('before-hello'), null, 'nothing was stored, not even the queue');
  });

  it('a bad Authorization header is refused at the upgrade with HTTP 401', async () => {
    for (const header of ['Bearer garbage', `Bearer ${tokens.revoked}`, 'Basic dXNlcjpwYXNz', 'Bearer']) {
      const r = await upgrade({ authorization: header });
      assert.equal(r.status, 401, header);
      assert.equal(r.header, 'Bearer', header);
      assert.equal(r.body.code, 'UNAUTHORIZED', header);
      assert.equal(typeof r.body.message, 'string');
    }
    assert.equal((await upgrade({ authorization: `Bearer ${tokens.admin}` })).status, 101, 'a good header is accepted');
    assert.equal((await upgrade({})).status, 101, 'no header: hello may still bring the token');
  });

  it('Spool.connect with a refused token rejects at once with UnauthorizedError', async () => {
    const t0 = Date.now();
    await assert.rejects(connect(broker.wsUrl, { ...quiet, token: tokens.revoked, connectTimeoutMs: 5_000 }), (err) => {
      assert.ok(err instanceof UnauthorizedError, String(err));
      assert.match(err.message, /unknown or revoked/);
      return true;
    });
    assert.ok(Date.now() - t0 < 2_000, 'did not wait for connectTimeoutMs: retrying cannot fix a refused token');
    await assert.rejects(connect(broker.wsUrl, { ...quiet, connectTimeoutMs: 5_000 }), UnauthorizedError, 'no token at all');
  });

  it('a token in the hello frame (as browsers must send it) works', async () => {
    const raw = await RawWs.open(broker.wsUrl, { hello: false });
    raw.send({ op: 'hello', v: 1, token: tokens.publishOrders });
    assert.equal((await raw.next()).op, 'welcome');
    const reply = await raw.request({ op: 'publish', queue: Q, jobs: [{ payload: 'from a browser' }] });
    assert.equal(reply.op, 'ok', JSON.stringify(reply));
    const denied = await raw.request({ op: 'publish', queue: 'other', jobs: [{ payload: 1 }] });
    assert.deepEqual([denied.error.code, denied.error.message], ['FORBIDDEN', 'this token lacks publish:other']);
    await raw.close();
  });

  it('a token in the header works without one in hello', async () => {
    const raw = await RawWs.open(broker.wsUrl, { headers: { authorization: `Bearer ${tokens.consumeOrders}` } });
    const reply = await raw.request({ op: 'call', method: 'stats', params: { queue: Q } });
    assert.equal(reply.op, 'ok', JSON.stringify(reply));
    await raw.close();
  });
});

type Reply = OkFrame | ErrorFrame;
type Outcome = 'ok' | 'FORBIDDEN';

interface Row {
  /** The frame (without id) to send; may create what it needs first (a job, a lease). */
  ws: (who: Scoped) => Promise<Record<string, unknown>>;
  /** The HTTP route that does the same, if there is one; made fresh for the comparison. */
  http?: () => Promise<{ method: string; path: string; body?: unknown }>;
  expect: Record<Scoped, Outcome>;
}

const job = async () => (await spool.queue(Q).add({ n: 1 })).id;
const cancelledJob = async () => {
  const id = await job();
  await spool.cancel(id);
  return id;
};
const admin: Record<Scoped, Outcome> = { publishOrders: 'FORBIDDEN', consumeOrders: 'FORBIDDEN', publishOther: 'FORBIDDEN', admin: 'ok' };
const read: Record<Scoped, Outcome> = { publishOrders: 'ok', consumeOrders: 'ok', publishOther: 'FORBIDDEN', admin: 'ok' };
const call = (method: string, params: () => Promise<Record<string, unknown>>) => async () => ({ op: 'call', method, params: await params() });

const ROWS: Record<string, Row> = {
  publish: {
    ws: async () => ({ op: 'publish', queue: Q, jobs: [{ payload: 1 }] }),
    http: async () => ({ method: 'POST', path: `/v1/queues/${Q}/jobs`, body: { payload: 1 } }),
    expect: { publishOrders: 'ok', consumeOrders: 'FORBIDDEN', publishOther: 'FORBIDDEN', admin: 'ok' },
  },
  'publish (atomic)': {
    ws: async () => ({ op: 'publish', queue: Q, jobs: [{ payload: 1 }, { payload: 2 }], atomic: true }),
    http: async () => ({ method: 'POST', path: `/v1/queues/${Q}/jobs`, body: { jobs: [{ payload: 1 }, { payload: 2 }] } }),
    expect: { publishOrders: 'ok', consumeOrders: 'FORBIDDEN', publishOther: 'FORBIDDEN', admin: 'ok' },
  },
  subscribe: {
    // No credits: the subscription is opened (or refused) and nothing is delivered.
    ws: async (who) => ({ op: 'subscribe', sub: nextSub(who), queue: Q, credits: 0 }),
    http: async () => ({ method: 'POST', path: `/v1/queues/${Q}/receive`, body: { max: 1 } }),
    expect: { publishOrders: 'FORBIDDEN', consumeOrders: 'ok', publishOther: 'FORBIDDEN', admin: 'ok' },
  },
  'call get': { ws: call('get', async () => ({ jobId: await job() })), http: async () => ({ method: 'GET', path: `/v1/jobs/${await job()}` }), expect: read },
  'call list': { ws: call('list', async () => ({ queue: Q })), http: async () => ({ method: 'GET', path: `/v1/queues/${Q}/jobs` }), expect: read },
  'call stats (one queue)': { ws: call('stats', async () => ({ queue: Q })), http: async () => ({ method: 'GET', path: `/v1/queues/${Q}/stats` }), expect: read },
  'call config': { ws: call('config', async () => ({ queue: Q })), http: async () => ({ method: 'GET', path: `/v1/queues/${Q}` }), expect: read },
  'call cancel': { ws: call('cancel', async () => ({ jobId: await job() })), http: async () => ({ method: 'POST', path: `/v1/jobs/${await job()}/cancel` }), expect: admin },
  'call retry': { ws: call('retry', async () => ({ jobId: await cancelledJob() })), http: async () => ({ method: 'POST', path: `/v1/jobs/${await cancelledJob()}/retry` }), expect: admin },
  'call configure': { ws: call('configure', async () => ({ queue: Q, config: { maxAttempts: 5 } })), http: async () => ({ method: 'PUT', path: `/v1/queues/${Q}`, body: { maxAttempts: 5 } }), expect: admin },
  'call pause': { ws: call('pause', async () => ({ queue: Q })), http: async () => ({ method: 'POST', path: `/v1/queues/${Q}/pause` }), expect: admin },
  'call resume': { ws: call('resume', async () => ({ queue: Q })), http: async () => ({ method: 'POST', path: `/v1/queues/${Q}/resume` }), expect: admin },
  'call purge': { ws: call('purge', async () => ({ queue: Q })), http: async () => ({ method: 'POST', path: `/v1/queues/${Q}/purge` }), expect: admin },
  ping: { ws: async () => ({ op: 'ping' }), expect: { publishOrders: 'ok', consumeOrders: 'ok', publishOther: 'ok', admin: 'ok' } },
};

const subs = new Map<Scoped, number>();
function nextSub(who: Scoped): number {
  subs.set(who, (subs.get(who) ?? 0) + 1);
  return subs.get(who)!;
}

const outcome = (r: Reply): Outcome | string => (r.op === 'ok' ? 'ok' : r.error.code);
const httpOutcome = (status: number, json: any): Outcome | string => (status < 300 ? 'ok' : json.code);

/** A job of `queue` leased now (resuming the queue first: a pause row may have paused it). */
async function lease(queue = Q): Promise<{ jobId: string; token: number }> {
  await spool.setPaused(queue, false);
  await spool.queue(queue).add({ lease: true });
  const [leased] = await spool.claim(queue, 1);
  return { jobId: leased!.id, token: leased!.leaseToken };
}

describe('WebSocket authorization: every frame and call on orders.eu, as the HTTP routes', () => {
  for (const [name, row] of Object.entries(ROWS)) {
    it(name, async () => {
      for (const who of WHO) {
        const reply = (await sessions[who].request(await row.ws(who))) as Reply;
        assert.equal(outcome(reply), row.expect[who], `${name} as ${who}: ${JSON.stringify(reply).slice(0, 300)}`);
        if (reply.op === 'error') {
          assert.match(reply.error.message, /^this token lacks (admin|(publish|consume):orders\.eu)/, `${name} as ${who}`);
        }
        if (!row.http) continue;
        const { method, path, body } = await row.http();
        const r = await http(who, method, path, body);
        assert.equal(outcome(reply), httpOutcome(r.status, r.json), `${name} as ${who}: WebSocket ${JSON.stringify(reply).slice(0, 200)}, HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
        if (reply.op === 'error') assert.equal(reply.error.message, r.json.message, `${name} as ${who}: the same words as HTTP`);
      }
    });
  }

  it('call stats (all queues) lists only the queues the token may read, as GET /v1/queues', async () => {
    const expected: Record<Scoped, string[]> = { publishOrders: [Q], consumeOrders: [Q], publishOther: ['other'], admin: [Q, 'other'] };
    await spool.queue(Q).add('so that the queue exists');
    for (const who of WHO) {
      const reply = (await sessions[who].request({ op: 'call', method: 'stats', params: {} })) as OkFrame;
      assert.equal(reply.op, 'ok');
      const names = (reply.result as { queue: string }[]).map((s) => s.queue).sort();
      assert.deepEqual(names, expected[who], who);
      const r = await http(who, 'GET', '/v1/queues');
      assert.deepEqual(r.json.queues.map((q: { queue: string }) => q.queue).sort(), names, `${who}: as HTTP`);
    }
  });

  for (const op of ['ack', 'nack', 'extend', 'release'] as const) {
    it(`${op}: per item, consume on the job's queue (a stale or unknown lease keeps its own error)`, async () => {
      const extra = op === 'nack' ? { error: 'no' } : op === 'extend' ? { leaseMs: 60_000 } : {};
      for (const who of WHO) {
        const items = async () => [{ ...(await lease()), ...extra }, { jobId: UNKNOWN_JOB, token: 1, ...extra }, { ...(await lease('other')), ...extra }];
        const reply = (await sessions[who].request({ op, leases: await items() })) as OkFrame;
        assert.equal(reply.op, 'ok', `${op} as ${who}: ${JSON.stringify(reply)}`);
        const results = (reply.result as { results: { ok: boolean; error?: { code: string; message: string } }[] }).results;
        const got = results.map((r) => (r.ok ? 'ok' : r.error!.code));
        const consumes = who === 'consumeOrders' || who === 'admin';
        assert.deepEqual(got, [consumes ? 'ok' : 'FORBIDDEN', 'STALE_LEASE', who === 'admin' ? 'ok' : 'FORBIDDEN'], `${op} as ${who}`);
        if (!consumes) assert.equal(results[0]!.error!.message, 'this token lacks consume:orders.eu');
        if (op === 'release') continue; // HTTP has no release route
        const r = await http(who, 'POST', `/v1/${op}`, { leases: await items() });
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.results.map((x: any) => (x.ok ? 'ok' : x.error.code)), got, `${op} as ${who}: as HTTP`);
        assert.deepEqual(r.json.results.map((x: any) => x.error?.message), results.map((x) => x.error?.message), `${op} as ${who}: the same words as HTTP`);
      }
    });
  }

  it('jobs delivered to a token that may consume are settled on its connection; credit and unsubscribe need no more', async () => {
    const raw = sessions.consumeOrders;
    await spool.setPaused(Q, false);
    await spool.queue(Q).purge();
    const added = await spool.queue(Q).add({ deliver: 'me' });
    const sub = nextSub('consumeOrders');
    assert.equal((await raw.request({ op: 'subscribe', sub, queue: Q, credits: 0 })).op, 'ok');
    raw.send({ op: 'credit', sub, n: 1 });
    const delivered = await raw.next((f) => f.op === 'deliver' && f.sub === sub);
    assert.equal(delivered.jobs[0].id, added.id);
    const ack = await raw.request({ op: 'ack', leases: [{ jobId: added.id, token: delivered.jobs[0].leaseToken }] });
    assert.deepEqual(ack.result, { results: [{ ok: true }] });
    assert.equal((await raw.request({ op: 'unsubscribe', sub })).op, 'ok');
    assert.equal((await spool.get(added.id)).state, 'completed');
  });
});

describe('Spool.connect with a token', () => {
  it('publishes and consumes within its scopes; outside them, ForbiddenError', async (t) => {
    const errors: unknown[] = [];
    const producer = await connect(broker.wsUrl, { ...quiet, token: tokens.publishOrders, onError: (err) => errors.push(err) });
    const consumer = await connect(broker.url, { ...quiet, token: tokens.consumeOrders });
    t.after(async () => {
      await producer.close();
      await consumer.close();
    });
    await spool.setPaused(Q, false);
    const job = await producer.queue(Q).add({ remote: true });
    await assert.rejects(producer.queue('other').add(1), (e) => e instanceof ForbiddenError && e.scope === 'publish:other');
    await assert.rejects(producer.cancel(job.id), (e) => e instanceof ForbiddenError && e.scope === 'admin');
    assert.equal((await producer.get(job.id)).id, job.id, 'publish allows reading the queue');

    // A worker the token may not run: the subscription is refused and reported, nothing is delivered.
    const refused = producer.work(Q, async () => assert.fail('delivered to a token without consume'));
    for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(errors[0] instanceof ForbiddenError && errors[0].scope === `consume:${Q}`, String(errors[0]));
    await refused.close();

    const done = new Promise<string>((resolve) => consumer.work(Q, async (j) => {
      if (j.id === job.id) resolve(j.id);
      return 'ok';
    }));
    assert.equal(await done, job.id);
    for (let i = 0; i < 200 && (await spool.get(job.id)).state !== 'completed'; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await spool.get(job.id)).state, 'completed');
    await assert.rejects(consumer.queue(Q).add(1), (e: SpoolError) => e instanceof ForbiddenError && e.code === 'FORBIDDEN');
  });
});
