/**
 * The authorization matrix: every route the HTTP API serves, called over real sockets
 * with no token, a garbage token, a revoked token and tokens of five scopes, against
 * queue `orders.eu`. A route without a row here fails the test, so no new route can
 * skip its permission check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Spool } from '../engine/spool.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { OPERATIONS } from '../api/operations.ts';
import { buildHttpApi, routesOf } from './app.ts';
import { Authenticator } from './auth/authenticator.ts';
import { createToken } from './auth/tokens.ts';

const Q = 'orders.eu';
const UNKNOWN_JOB = '01900000-0000-7000-8000-000000000000';
const SCOPED = { publishOrders: ['publish:orders.*'], consumeOrders: ['consume:orders.*'], publishOther: ['publish:other'], view: ['view'], admin: ['admin'] } as const;
type Scoped = keyof typeof SCOPED;
type Who = Scoped | 'none' | 'garbage' | 'revoked';

interface Row {
  /** Served without a token: every caller gets 200. */
  public?: true;
  /** Makes what the call needs (a job, a lease) and returns the path and body. */
  request?: () => Promise<{ path: string; body?: unknown }>;
  /** The status each scoped token gets. */
  expect?: Record<Scoped, number>;
  /** More checks on a 2xx answer. */
  check?: (who: Scoped, json: any) => void;
}

let spool: Spool;
let app: ReturnType<typeof buildHttpApi>;
let base: string;
const headers: Partial<Record<Who, string>> = {};
const dir = mkdtempSync(join(tmpdir(), 'spool-auth-matrix-'));

before(async () => {
  spool = await Spool.open({ store: new SqliteStore({ path: join(dir, 'spool.db'), durability: 'no-fsync' }), maintenance: false });
  app = buildHttpApi(spool, { auth: new Authenticator(spool.store, { mode: 'required' }) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  for (const [who, scopes] of Object.entries(SCOPED)) headers[who as Scoped] = `Bearer ${(await createToken(spool.store, { name: who, scopes: [...scopes] })).token}`;
  const revoked = await createToken(spool.store, { name: 'revoked', scopes: ['admin'] });
  await spool.store.tokensDelete([revoked.id]);
  headers.revoked = `Bearer ${revoked.token}`;
  headers.garbage = 'Bearer spool_0123456789ab_not-a-real-secret';
  await spool.queue('other').add('so that publish:other has a queue to see');
});
after(async () => {
  await app.close();
  await spool.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A job of `queue` leased now (resuming the queue first, in case a pause row left it paused). */
async function lease(queue = Q): Promise<{ jobId: string; token: number }> {
  await spool.setPaused(queue, false);
  await spool.queue(queue).purge();
  await spool.queue(queue).add({ lease: true });
  const [job] = await spool.claim(queue, 1);
  return { jobId: job!.id, token: job!.leaseToken };
}

const job = async () => (await spool.queue(Q).add({ n: 1 })).id;
const admin = (ok: number): Record<Scoped, number> => ({ publishOrders: 403, consumeOrders: 403, publishOther: 403, view: 403, admin: ok });
const all200 = { publishOrders: 200, consumeOrders: 200, publishOther: 200, view: 200, admin: 200 };

/** ack, nack, extend, report: 200 with one outcome per item; an item of a queue the token may not consume from is FORBIDDEN. */
const settle = (path: string, extra: Record<string, unknown>): Row & { everyone: true } => ({
  everyone: true,
  request: async () => ({ path, body: { leases: [{ ...(await lease()), ...extra }, { jobId: UNKNOWN_JOB, token: 1, ...extra }, { ...(await lease('other')), ...extra }] } }),
  expect: all200,
  check: (who, json) => {
    const [mine, unknown, other] = json.results;
    if (who === 'consumeOrders' || who === 'admin') assert.equal(mine.ok, true, JSON.stringify(mine));
    else assert.deepEqual([mine.error.code, /lacks consume:orders\.eu/.test(mine.error.message)], ['FORBIDDEN', true]);
    assert.equal(unknown.error.code, 'STALE_LEASE', 'an unknown job keeps its own error');
    assert.equal(other.ok ? 'ok' : other.error.code, who === 'admin' ? 'ok' : 'FORBIDDEN');
  },
});

/**
 * Per operation of the table: how to make a request for it (a job, a lease), and what more
 * to check. What each token gets follows from the operation's action in the table.
 */
const MATRIX: Record<string, Omit<Row, 'expect' | 'public'> & { ok?: number; everyone?: true }> = {
  healthz: {},
  readyz: {},
  addJobs: { request: async () => ({ path: `/v1/queues/${Q}/jobs`, body: { payload: 1 } }), ok: 201 },
  getJob: { request: async () => ({ path: `/v1/jobs/${await job()}` }) },
  getJobLogs: { request: async () => ({ path: `/v1/jobs/${await job()}/logs` }) },
  cancelJob: { request: async () => ({ path: `/v1/jobs/${await job()}/cancel` }) },
  retryJob: {
    request: async () => {
      const id = await job();
      await spool.cancel(id);
      return { path: `/v1/jobs/${id}/retry` };
    },
  },
  deleteJob: { request: async () => ({ path: `/v1/jobs/${await job()}` }) },
  bulkJobs: { request: async () => ({ path: `/v1/queues/${Q}/bulk`, body: { action: 'cancel', state: 'scheduled' } }) },
  queueStats: { request: async () => ({ path: `/v1/queues/${Q}/stats` }) },
  waitJob: { request: async () => ({ path: `/v1/jobs/${await job()}/wait` }), check: (_who, json) => assert.equal(typeof json.finished, 'boolean') },
  queueDrained: { request: async () => ({ path: `/v1/queues/${Q}/drained` }), check: (_who, json) => assert.equal(typeof json.drained, 'boolean') },
  queueCapacity: { request: async () => ({ path: `/v1/queues/${Q}/capacity?targetWaitMs=500` }), check: (_who, json) => assert.equal(json.targetWaitMs, 500) },
  // A listing leaves out what the caller may not read: everyone gets 200.
  listQueues: {
    everyone: true,
    request: async () => ({ path: '/v1/queues' }),
    check: (who, json) => {
      const names = json.queues.map((q: { queue: string }) => q.queue).sort();
      assert.deepEqual(names, { publishOrders: [Q], consumeOrders: [Q], publishOther: ['other'], view: [Q, 'other'], admin: [Q, 'other'] }[who], who);
    },
  },
  // The overview, like the listing, leaves out the queues the caller may not read.
  overview: {
    everyone: true,
    request: async () => ({ path: '/v1/overview' }),
    check: (who, json) => {
      const names = json.queues.map((q: { queue: string }) => q.queue).sort();
      assert.deepEqual(names, { publishOrders: [Q], consumeOrders: [Q], publishOther: ['other'], view: [Q, 'other'], admin: [Q, 'other'] }[who], who);
    },
  },
  getQueue: { request: async () => ({ path: `/v1/queues/${Q}` }) },
  configureQueue: { request: async () => ({ path: `/v1/queues/${Q}`, body: { maxAttempts: 5 } }) },
  deleteQueue: {
    request: async () => {
      await spool.queue('doomed.eu').add(1);
      return { path: '/v1/queues/doomed.eu' };
    },
  },
  pauseQueue: { request: async () => ({ path: `/v1/queues/${Q}/pause` }) },
  purgeQueue: { request: async () => ({ path: `/v1/queues/${Q}/purge` }) },
  resumeQueue: { request: async () => ({ path: `/v1/queues/${Q}/resume` }) },
  listJobs: { request: async () => ({ path: `/v1/queues/${Q}/jobs` }) },
  receive: { request: async () => ({ path: `/v1/queues/${Q}/receive`, body: { max: 1 } }) },
  setAlert: { request: async () => ({ path: '/v1/alerts/orders-waiting', body: { queue: Q, kind: 'oldestReadyAge', threshold: 60_000, webhook: 'http://127.0.0.1:9/hook?key=k' } }) },
  deleteAlert: {
    request: async () => {
      await spool.setAlert({ id: 'doomed', queue: Q, kind: 'noWorkers', webhook: 'http://127.0.0.1:9/hook' });
      return { path: '/v1/alerts/doomed' };
    },
  },
  // The alert listings leave out the rules and events of queues the caller may not read; only admin sees a webhook's path.
  listAlerts: {
    everyone: true,
    request: async () => {
      for (const queue of [Q, 'other']) await spool.setAlert({ id: `on-${queue}`, queue, kind: 'noWorkers', webhook: 'http://127.0.0.1:9/hook?key=k' });
      return { path: '/v1/alerts' };
    },
    check: (who, json) => {
      const mine = json.alerts.filter((r: { id: string }) => r.id.startsWith('on-'));
      assert.deepEqual(mine.map((r: { queue: string }) => r.queue).sort(), { publishOrders: [Q], consumeOrders: [Q], publishOther: ['other'], view: [Q, 'other'], admin: [Q, 'other'] }[who], who);
      for (const r of mine) assert.equal(r.webhook, who === 'admin' ? 'http://127.0.0.1:9/hook?key=k' : 'http://127.0.0.1:9/…', who);
    },
  },
  alertEvents: { everyone: true, request: async () => ({ path: '/v1/alert-events?limit=10' }), check: (_who, json) => assert.ok(Array.isArray(json.events)) },
  setSchedule: { request: async () => ({ path: '/v1/schedules/nightly', body: { queue: Q, cron: '0 30 2 * * *', timezone: 'Europe/Berlin' } }) },
  deleteSchedule: {
    request: async () => {
      await spool.schedule('doomed', { queue: Q, everyMs: 60_000 });
      return { path: '/v1/schedules/doomed' };
    },
  },
  pauseSchedule: {
    request: async () => {
      await spool.schedule('to-pause', { queue: Q, everyMs: 60_000 });
      return { path: '/v1/schedules/to-pause/pause' };
    },
  },
  resumeSchedule: {
    request: async () => {
      await spool.schedule('to-resume', { queue: Q, everyMs: 60_000, paused: true });
      return { path: '/v1/schedules/to-resume/resume' };
    },
  },
  // The schedule listing leaves out the schedules of queues the caller may not read.
  listSchedules: {
    everyone: true,
    request: async () => {
      for (const queue of [Q, 'other']) await spool.schedule(`on-${queue}`, { queue, everyMs: 60_000 });
      return { path: '/v1/schedules' };
    },
    check: (who, json) => {
      const mine = json.schedules.filter((s: { name: string }) => s.name.startsWith('on-'));
      assert.deepEqual(mine.map((s: { queue: string }) => s.queue).sort(), { publishOrders: [Q], consumeOrders: [Q], publishOther: ['other'], view: [Q, 'other'], admin: [Q, 'other'] }[who], who);
    },
  },
  publish: {
    request: async () => {
      await spool.bind('orders.#', Q);
      return { path: '/v1/topics/orders.created/messages', body: { payload: 1 } };
    },
    ok: 201,
  },
  // Each message is its own publish: one the token may not make fails alone, so every caller gets 200.
  publishMany: {
    everyone: true,
    request: async () => {
      await spool.bind('orders.#', Q);
      return { path: '/v1/publish', body: { messages: [{ topic: 'orders.created', payload: 1 }, { topic: 'nowhere.at.all', payload: 2 }] } };
    },
    check: (who, json) => {
      const [orders, nowhere] = json.results;
      assert.equal(orders.ok ? 'ok' : orders.error.code, who === 'publishOrders' || who === 'admin' ? 'ok' : 'FORBIDDEN', who);
      assert.equal(nowhere.ok ? 'ok' : nowhere.error.code, ['publishOrders', 'publishOther', 'admin'].includes(who) ? 'ok' : 'FORBIDDEN', who);
    },
  },
  // A listing leaves out the bindings to queues the caller may not read.
  listBindings: {
    everyone: true,
    request: async () => {
      await spool.bind('audit.#', Q);
      await spool.bind('audit.#', 'other');
      return { path: '/v1/bindings' };
    },
    check: (who, json) => {
      const queues = [...new Set(json.bindings.filter((b: { pattern: string }) => b.pattern === 'audit.#').map((b: { queue: string }) => b.queue))].sort();
      assert.deepEqual(queues, { publishOrders: [Q], consumeOrders: [Q], publishOther: ['other'], view: [Q, 'other'], admin: [Q, 'other'] }[who], who);
    },
  },
  bind: { request: async () => ({ path: '/v1/bindings', body: { pattern: 'orders.*.created', queue: Q } }), ok: 201 },
  unbind: { request: async () => ({ path: `/v1/bindings?pattern=${encodeURIComponent('orders.#')}&queue=${Q}` }) },
  setUnroutedQueue: { request: async () => ({ path: '/v1/bindings/unrouted-queue', body: { queue: null } }) },
  // A flow needs publish (and, read back, read) on the parent's queue and on every child's.
  addFlow: { request: async () => ({ path: '/v1/flows', body: { queue: Q, payload: 1, onChildFailure: 'fail', children: [{ queue: 'orders.us', payload: 2 }] } }), ok: 201 },
  getFlow: {
    request: async () => ({ path: `/v1/flows/${(await spool.addFlow({ queue: Q, payload: 1, onChildFailure: 'fail', children: [{ queue: 'orders.us', payload: 2 }] })).parent.id}` }),
    check: (_who, json) => assert.equal(json.state, 'waiting'),
  },
  ack: settle('/v1/ack', {}),
  nack: settle('/v1/nack', { error: 'no' }),
  extend: settle('/v1/extend', { leaseMs: 60_000 }),
  report: settle('/v1/report', { progress: 1 }),
};

/** What each scoped token gets for an operation, from its action in the table. */
function expected(action: string, ok: number): Record<Scoped, number> | null {
  switch (action) {
    case 'public': return null;
    case 'publish': return { publishOrders: ok, consumeOrders: 403, publishOther: 403, view: 403, admin: ok };
    case 'consume': return { publishOrders: 403, consumeOrders: ok, publishOther: 403, view: 403, admin: ok };
    case 'read': return { publishOrders: ok, consumeOrders: ok, publishOther: 403, view: ok, admin: ok };
    case 'admin': return admin(ok);
    default: throw new Error(`no rule for action ${action}`);
  }
}

/**
 * The routes that are not operations: the API description, and the dashboard's page and files
 * (public: no data in them) and its session (who the token is: any valid token may ask).
 */
const OTHER_ROWS: Record<string, Row> = {
  'GET /openapi.json': { public: true },
  'GET /': { public: true },
  'GET /dashboard/*': { public: true, request: async () => ({ path: '/dashboard/app.js' }) },
  'GET /dashboard/session': {
    expect: all200,
    check: (who, json) => assert.deepEqual(json, { tokenId: headers[who]!.split('_')[1], scopes: [...SCOPED[who]], admin: who === 'admin' }, who),
  },
};

/** A row per served route, from the operations table; the lease batches answer 200 with a result per item. */
const ROWS: Record<string, Row> = { ...OTHER_ROWS };
for (const op of OPERATIONS) {
  const row = MATRIX[op.name];
  if (!row) continue; // the test below fails on it
  const ok = row.ok ?? 200;
  const rule = row.everyone ? all200 : expected(op.action, ok);
  ROWS[`${op.http.method} ${op.http.path.replace(/\{(\w+)\}/g, ':$1')}`] = { ...row, ...(rule ? { expect: rule } : { public: true }) };
}

async function call(method: string, path: string, who: Who, body?: unknown): Promise<{ status: number; json: any; res: Response }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(headers[who as Scoped] ? { authorization: headers[who as Scoped]! } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // The dashboard's page and files are not JSON.
  const json = text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : null;
  return { status: res.status, json, res };
}

describe('authorization matrix (required mode, real sockets)', () => {
  it('every operation of the table has a row, and so has every other served route', () => {
    for (const op of OPERATIONS) assert.ok(MATRIX[op.name], `operation ${op.name} has no row in the auth matrix`);
    const served = routesOf(app).filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);
    assert.equal(served.length, OPERATIONS.length + Object.keys(OTHER_ROWS).length, 'the operations, the API description and the dashboard');
    for (const route of served) assert.ok(ROWS[route], `${route} is served but has no row in the auth matrix`);
  });

  it('each route answers each caller as its row says (HEAD as its GET)', async () => {
    for (const { method, url } of routesOf(app)) {
      const row = ROWS[`${method === 'HEAD' ? 'GET' : method} ${url}`]!;
      const make: NonNullable<Row['request']> = row.request ?? (async () => ({ path: url }));
      for (const who of ['none', 'garbage', 'revoked', ...Object.keys(SCOPED)] as Who[]) {
        const { path, body } = await make();
        const label = `${method} ${url} as ${who}`;
        const r = await call(method, path, who, body);
        const scoped = who in SCOPED;
        const expected = row.public ? 200 : scoped ? row.expect![who as Scoped] : 401;
        assert.equal(r.status, expected, `${label}: ${JSON.stringify(r.json)?.slice(0, 300)}`);
        if (method === 'HEAD') continue;
        if (expected === 401) {
          assert.equal(r.json.code, 'UNAUTHORIZED', label);
          assert.equal(r.res.headers.get('www-authenticate'), 'Bearer', label);
        } else if (expected === 403) {
          assert.equal(r.json.code, 'FORBIDDEN', label);
          assert.match(r.json.message, /^this token lacks (admin|(publish|consume):orders\.eu)/, label);
        } else if (row.check) {
          row.check(who as Scoped, r.json);
        }
      }
    }
  });

  it('a publish needs publish on every queue its topic routes to (on any queue when it routes nowhere); refused, it writes nothing', async () => {
    await spool.bind('mixed.#', Q);
    await spool.bind('mixed.#', 'other');
    const before = (await spool.stats()).map((s) => [s.queue, s.counts.ready]);
    const mixed = await call('POST', '/v1/topics/mixed.x/messages', 'publishOrders', { payload: 1 });
    assert.deepEqual([mixed.status, mixed.json.code], [403, 'FORBIDDEN']);
    assert.match(mixed.json.message, /lacks publish:other/);
    assert.deepEqual((await spool.stats()).map((s) => [s.queue, s.counts.ready]), before, 'no copy was written');
    assert.equal((await call('POST', '/v1/topics/mixed.x/messages', 'admin', { payload: 1 })).status, 201);
    const nowhere = (who: Who) => call('POST', '/v1/topics/nowhere.at.all/messages', who, { payload: 1 });
    assert.deepEqual([(await nowhere('consumeOrders')).status, (await nowhere('publishOther')).status, (await nowhere('view')).status], [403, 201, 403]);
    await spool.unbind('mixed.#', Q);
    await spool.unbind('mixed.#', 'other');
  });

  it('an unknown route is 401 without a token, so it says nothing about which routes exist', async () => {
    assert.equal((await call('GET', '/v1/nothing-here', 'none')).status, 401);
    assert.equal((await call('GET', '/v1/nothing-here', 'admin')).status, 404);
  });
});
