import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../core/errors.ts';
import { LIMITS } from '../core/limits.ts';
import type { Spool } from '../engine/spool.ts';
import type { Authenticator } from './auth/authenticator.ts';
import { authorize, PERMISSIONS, settleDenials } from './auth/permissions.ts';
import { ALL_ACCESS, type Principal } from './auth/scopes.ts';
import { toAddItem } from '../protocol/frames.ts';
import { toHttpError } from './http-errors.ts';
import { receive } from './receive.ts';

export interface ServerOptions {
  /** Largest request body; default: payloadMaxBytes × 2 + 64 KiB, enough for one full job with its envelope. */
  bodyMaxBytes?: number;
  /** Longest long-poll wait a client may ask for. Default 20 s. */
  receiveWaitMaxMs?: number;
  /** Closes connections idle this long. Default 60 s. */
  idleTimeoutMs?: number;
  /** Checks API tokens and their scopes (docs/protocol.md, Authentication). Absent: every request may do everything. */
  auth?: Authenticator;
  /** Serve HTTPS (and WSS) with this certificate chain and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

const lease = { type: 'object', required: ['jobId', 'token'], properties: { jobId: { type: 'string' }, token: { type: 'integer', minimum: 1 } } } as const;
const addOptions = {
  name: { type: 'string' }, priority: { type: 'integer' }, delayMs: { type: 'integer' }, runAt: { type: 'integer' }, maxAttempts: { type: 'integer' },
} as const;

/**
 * Routes served without a token: probes, the API description, and the WebSocket
 * endpoint, which authenticates its own connections.
 */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/openapi.json', '/v1/ws']);

const ROUTES = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** The routes an API instance serves (for the test that keeps docs/openapi.json complete). */
export function routesOf(app: FastifyInstance): readonly { method: string; url: string }[] {
  return ROUTES.get(app) ?? [];
}

/**
 * The broker's HTTP+JSON API over an engine: enough for `curl` alone to produce and
 * consume. Every error is `{ code, message }` with a 4xx for a client's mistake.
 * @example
 * const app = buildHttpApi(spool);
 * await app.listen({ host: '127.0.0.1', port: 7600 });
 */
export function buildHttpApi(spool: Spool, options: ServerOptions = {}): FastifyInstance {
  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    bodyLimit: options.bodyMaxBytes ?? LIMITS.bodyMaxBytes.default,
    connectionTimeout: 0,
    keepAliveTimeout: options.idleTimeoutMs ?? LIMITS.idleTimeoutMs.default,
    logger: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const waitMax = options.receiveWaitMaxMs ?? LIMITS.receiveWaitMaxMs.default;
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  ROUTES.set(app, routes);

  app.setErrorHandler((err, _req, reply) => {
    const { status, body, headers } = toHttpError(err);
    if (headers) void reply.headers(headers);
    void reply.status(status).send(body);
  });

  // Who is asking: authenticated once per request, before its body is read; each route then checks its permission.
  const principals = new WeakMap<FastifyRequest, Principal>();
  const auth = options.auth;
  if (auth) {
    app.addHook('onRequest', async (req) => {
      if (req.routeOptions.url !== undefined && PUBLIC_ROUTES.has(req.routeOptions.url)) return;
      principals.set(req, await auth.authenticate(req.headers.authorization));
    });
  }
  const who = (req: FastifyRequest): Principal => {
    const principal = principals.get(req) ?? (auth ? null : ALL_ACCESS);
    if (!principal) throw new UnauthorizedError('no API token was checked for this request'); // fail closed
    return principal;
  };
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` });
  });

  // The OpenAPI document lives in docs/ (one source; a test checks it names every route).
  const openapi = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as unknown;
  app.get('/openapi.json', async () => openapi);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const h = spool.health();
    return reply.status(h.healthy ? 200 : 503).send({ ready: h.healthy, reason: h.reason });
  });

  app.post<{ Params: { queue: string }; Body: Record<string, unknown> }>('/v1/queues/:queue/jobs', {
    schema: { body: { type: 'object', properties: { jobs: { type: 'array' }, ...addOptions } } },
  }, async (req, reply) => {
    authorize(who(req), PERMISSIONS.addJobs, req.params.queue);
    const { jobs } = req.body;
    if (Array.isArray(jobs)) {
      const added = await spool.addMany(req.params.queue, (jobs as Record<string, unknown>[]).map(toAddItem));
      return reply.status(201).send({ jobs: added });
    }
    if (!('payload' in req.body)) throw Object.assign(new Error('body must have "payload" (one job) or "jobs" (a batch)'), { statusCode: 400 });
    const { payload, ...opts } = toAddItem(req.body);
    return reply.status(201).send(await spool.add(req.params.queue, payload, opts));
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', async (req) => {
    const job = await spool.get(req.params.id);
    authorize(who(req), PERMISSIONS.getJob, job.queue);
    return job;
  });
  app.post<{ Params: { id: string } }>('/v1/jobs/:id/cancel', async (req) => {
    authorize(who(req), PERMISSIONS.manageJob);
    await spool.cancel(req.params.id);
    return spool.get(req.params.id);
  });
  app.post<{ Params: { id: string } }>('/v1/jobs/:id/retry', async (req) => {
    authorize(who(req), PERMISSIONS.manageJob);
    await spool.retry(req.params.id);
    return spool.get(req.params.id);
  });
  app.get<{ Params: { queue: string } }>('/v1/queues/:queue/stats', async (req) => {
    authorize(who(req), PERMISSIONS.readQueue, req.params.queue);
    return (await spool.stats(req.params.queue))[0];
  });
  // Every queue the caller may read; the others are left out, not refused.
  app.get('/v1/queues', async (req) => {
    const principal = who(req);
    return { queues: (await spool.stats()).filter((s) => principal.can(PERMISSIONS.readQueue, s.queue)) };
  });
  app.get<{ Params: { queue: string } }>('/v1/queues/:queue', async (req) => {
    authorize(who(req), PERMISSIONS.readQueue, req.params.queue);
    return { name: req.params.queue, config: await spool.queueConfig(req.params.queue) };
  });
  app.put<{ Params: { queue: string }; Body: Record<string, unknown> }>('/v1/queues/:queue', { schema: { body: { type: 'object' } } }, async (req) => {
    authorize(who(req), PERMISSIONS.manageQueue, req.params.queue);
    return { name: req.params.queue, config: await spool.configureQueue(req.params.queue, req.body) };
  });
  app.post<{ Params: { queue: string } }>('/v1/queues/:queue/pause', async (req) => {
    authorize(who(req), PERMISSIONS.manageQueue, req.params.queue);
    await spool.setPaused(req.params.queue, true);
    return (await spool.stats(req.params.queue))[0];
  });
  app.post<{ Params: { queue: string } }>('/v1/queues/:queue/purge', async (req) => {
    authorize(who(req), PERMISSIONS.manageQueue, req.params.queue);
    return { purged: await spool.purge(req.params.queue) };
  });
  app.post<{ Params: { queue: string } }>('/v1/queues/:queue/resume', async (req) => {
    authorize(who(req), PERMISSIONS.manageQueue, req.params.queue);
    await spool.setPaused(req.params.queue, false);
    return (await spool.stats(req.params.queue))[0];
  });
  // Jobs of a queue in id order, a page at a time: pass the last id as `after` for the next page.
  app.get<{ Params: { queue: string }; Querystring: { state?: string; after?: string; limit?: string } }>('/v1/queues/:queue/jobs', async (req) => {
    authorize(who(req), PERMISSIONS.readQueue, req.params.queue);
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
    const jobs = await spool.list(req.params.queue, {
      ...(req.query.state ? { state: req.query.state as never } : {}),
      ...(req.query.after ? { after: req.query.after } : {}),
      ...(limit === undefined ? {} : { limit }),
    });
    const full = jobs.length === (limit ?? LIMITS.listLimit.default);
    return { jobs, next: full ? jobs.at(-1)!.id : null };
  });

  app.post<{ Params: { queue: string }; Body: { max?: number; waitMs?: number } }>('/v1/queues/:queue/receive', {
    schema: { body: { type: 'object', properties: { max: { type: 'integer', minimum: 1, maximum: LIMITS.claimBatchMax.max }, waitMs: { type: 'integer', minimum: 0, maximum: waitMax } } } },
  }, async (req, reply) => {
    authorize(who(req), PERMISSIONS.receive, req.params.queue);
    // The response's 'close' before it was sent means the client went away (the request's own
    // 'close' fires as soon as its body has been read).
    const gone = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableEnded) gone.abort();
    });
    const jobs = await receive(spool, req.params.queue, req.body?.max ?? 1, req.body?.waitMs ?? 0, gone.signal);
    return { jobs };
  });

  // Batches of lease operations: one outcome per item, so one stale lease (or one job of a
  // queue the token may not consume from) does not fail the rest.
  const batch = <T extends { jobId: string; token: number }>(run: (item: T) => Promise<unknown>) =>
    async (req: FastifyRequest) => {
      const items = (req.body as { leases: T[] }).leases;
      const denied = await settleDenials(spool.store, who(req), items.map((i) => i.jobId));
      return { results: await Promise.all(items.map(async (item) => {
        try {
          const refusal = denied.get(item.jobId);
          if (refusal) throw refusal;
          const value = await run(item);
          return { jobId: item.jobId, ok: true, ...(value === undefined ? {} : { value }) };
        } catch (err) {
          return { jobId: item.jobId, ok: false, error: toHttpError(err).body };
        }
      })) };
    };
  const leases = (extra: Record<string, unknown> = {}) => ({
    schema: { body: { type: 'object', required: ['leases'], properties: { leases: { type: 'array', maxItems: LIMITS.claimBatchMax.max, items: { ...lease, properties: { ...lease.properties, ...extra } } } } } },
  });
  app.post('/v1/ack', leases({ result: {} }), batch<{ jobId: string; token: number; result?: unknown }>((i) => spool.ack({ jobId: i.jobId, token: i.token }, i.result)));
  app.post('/v1/nack', leases({ error: { type: 'string' }, unrecoverable: { type: 'boolean' } }),
    batch<{ jobId: string; token: number; error?: string; unrecoverable?: boolean }>((i) =>
      spool.nack({ jobId: i.jobId, token: i.token }, i.error ?? 'failed', { unrecoverable: i.unrecoverable === true }).then((state) => ({ state }))));
  app.post('/v1/extend', leases({ leaseMs: { type: 'integer' } }),
    batch<{ jobId: string; token: number; leaseMs?: number }>((i) => spool.extend({ jobId: i.jobId, token: i.token }, i.leaseMs).then((leaseExpiresAt) => ({ leaseExpiresAt }))));

  return app;
}
