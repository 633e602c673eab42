import { crossSiteRefusal } from './origin.ts';
import { checkOptionKeys } from '../core/options.ts';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { checkInput } from '../api/check-input.ts';
import { buildOpenApi } from '../api/openapi.ts';
import { OPERATIONS, type Operation, type OperationContext } from '../api/operations.ts';
import { ForbiddenError, InvalidArgumentError, UnauthorizedError } from '../core/errors.ts';
import { checkLimit } from '../core/limits.ts';
import type { Store } from '../store/store.ts';
import type { Authenticator } from './auth/authenticator.ts';
import { authorize, settleDenials } from './auth/permissions.ts';
import { ALL_ACCESS, type Principal } from './auth/scopes.ts';
import { DASHBOARD_PUBLIC_ROUTES, DASHBOARD_SESSION_ROUTE, registerDashboard } from './dashboard.ts';
import type { BrokerHost } from './host.ts';
import { toHttpError } from './http-errors.ts';
import { authFailure, BrokerLog, clientText, requestFailure, type BrokerLogger } from './logging.ts';
import { responseChecker } from './response-check.ts';

export type { BrokerHost } from './host.ts';

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
  /**
   * Where the broker logs (docs/operations.md, Logs): a pino logger, or anything with pino's
   * level methods. Absent or `false`: no lines at all, the quiet default for a broker embedded in a program.
   */
  logger?: BrokerLogger | false;
}

/**
 * Routes served without a token: the public operations, the API description, the WebSocket
 * endpoint (which authenticates its own connections), and the dashboard's page and files (no data in them).
 */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  ...OPERATIONS.filter((o) => o.action === 'public').map((o) => fastifyPath(o.http.path)),
  '/openapi.json',
  '/v1/ws',
  ...DASHBOARD_PUBLIC_ROUTES,
]);

const ROUTES = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** The routes an API instance serves (for the tests that keep docs/openapi.json and the auth matrix complete). */
export function routesOf(app: FastifyInstance): readonly { method: string; url: string }[] {
  return ROUTES.get(app) ?? [];
}

const WHO = new WeakMap<FastifyInstance, (req: FastifyRequest) => Principal>();

/** Who made a request to an API instance, as its token check found: for routes added beside the operations (the broker's /metrics). */
export function requesterOf(app: FastifyInstance): (req: FastifyRequest) => Principal {
  const who = WHO.get(app);
  if (!who) throw new Error('requesterOf: not an instance made by buildHttpApi');
  return who;
}

/** `/v1/jobs/{jobId}` → `/v1/jobs/:jobId`. */
function fastifyPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

/**
 * The broker's HTTP+JSON API: one route per row of the operations table, each checking
 * its input against the row's schema and its permission before it runs. Every error is
 * `{ code, message, …fields }` with a 4xx for a client's mistake.
 * @example
 * const app = buildHttpApi(spool);
 * await app.listen({ host: '127.0.0.1', port: 7600 });
 */
export function buildHttpApi(host: BrokerHost, options: ServerOptions = {}): FastifyInstance {
  const bodyMaxBytes = checkLimit('bodyMaxBytes', options.bodyMaxBytes);
  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    bodyLimit: bodyMaxBytes,
    connectionTimeout: 0,
    keepAliveTimeout: checkLimit('idleTimeoutMs', options.idleTimeoutMs),
    // Queue names are up to 128 characters; the framework's default refuses path parameters over 100.
    routerOptions: { maxParamLength: 256 },
    logger: false,
  });
  const waitMax = checkLimit('receiveWaitMaxMs', options.receiveWaitMaxMs);
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  ROUTES.set(app, routes);

  // JSON bodies: any JSON value (a `__proto__` key is data, kept as an own property), and a
  // bodiless request that says it is JSON is a request without a body.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: bodyMaxBytes }, (_req, text, done) => {
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text as string));
    } catch (err) {
      done(new InvalidArgumentError('body', `the body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  const log = new BrokerLog(options.logger);
  // The fields every line about a request has.
  const about = (req: FastifyRequest) => ({ transport: 'http', reqId: req.id, method: req.method, url: clientText(req.url), remote: req.ip });

  app.setErrorHandler((err, req, reply) => {
    const { status, body, headers } = toHttpError(err);
    if (status === 415) body.message = `send the body as JSON, with the header "Content-Type: application/json" (got ${JSON.stringify(req.headers['content-type'] ?? '')})`;
    if (status === 401) {
      // The dashboard asks who it is before anyone signed in: no token there is not a refusal worth a warning.
      const probe = req.headers.authorization === undefined && req.routeOptions.url === DASHBOARD_SESSION_ROUTE;
      log.write('auth failed', probe ? 'debug' : 'warn', { ...about(req), ...authFailure(err, req.headers.authorization) });
    }
    else {
      // The stack of a fault of ours goes to the log only: the body says "internal error".
      const { level, fields } = requestFailure(status, body.code, body.message, err);
      log.write('request failed', level, { ...about(req), tokenId: principals.get(req)?.tokenId ?? null, ...fields });
    }
    if (headers) void reply.headers(headers);
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    log.write('request failed', 'info', { ...about(req), status: 404, code: 'NOT_FOUND' });
    void reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` });
  });
  // An access line per request, at debug only: at info a busy broker would drown its log.
  if (log.on) {
    app.addHook('onResponse', (req, reply, done) => {
      if (log.enabled('debug')) log.write('request completed', 'debug', { ...about(req), status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 10) / 10 });
      done();
    });
  }

  // Browser pages of other sites may not drive the broker (see origin.ts), whatever the auth mode.
  app.addHook('onRequest', async (req) => {
    const refusal = crossSiteRefusal(req.headers);
    if (refusal) throw new ForbiddenError('', refusal);
  });

  // Who is asking: authenticated once per request, before its body is read; each operation then checks its permission.
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
  WHO.set(app, who);

  const openapi = buildOpenApi();
  const check = responseChecker(openapi);
  if (check) app.addHook('onSend', check);
  app.get('/openapi.json', async () => openapi);
  registerDashboard(app, who);

  for (const op of OPERATIONS as readonly Operation[]) {
    const binding = op.http;
    app.route({
      method: binding.method,
      url: fastifyPath(binding.path),
      handler: async (req, reply) => {
        const input = inputOf(op, req);
        // The broker's own bound on long polls, below the schema's.
        if ((op.name === 'receive' || op.name === 'queueDrained' || op.name === 'waitJob') && typeof input.waitMs === 'number' && input.waitMs > waitMax) {
          throw new InvalidArgumentError('waitMs', `waitMs must be at most ${waitMax} (got ${input.waitMs}), this broker's receiveWaitMaxMs`);
        }
        checkInput(op, input);
        const principal = op.action === 'public' ? ALL_ACCESS : who(req);
        if (op.action !== 'public' && op.queue === 'input') authorize(principal, op.action, input.queue as string);
        if (op.action !== 'public' && op.queue === 'none') authorize(principal, op.action);
        const output = await op.run(host, input, contextFor(host.store, principal, reply));
        return reply.status(binding.statusOf?.(output) ?? binding.status ?? 200).send(binding.reply ? binding.reply.map(output) : output);
      },
    });
  }
  return app;
}

/**
 * An operation's input from an HTTP request: the body's fields (or the body as one field),
 * query fields read as their schema's type, and path parameters. Built by spreading, so a
 * `__proto__` key in the body stays data.
 */
function inputOf(op: Operation, req: FastifyRequest): Record<string, unknown> {
  const binding = op.http;
  const body = binding.body === false ? undefined : req.body;
  let fromBody: Record<string, unknown> = {};
  if (binding.bodyAs) {
    if (body !== undefined) fromBody = { [binding.bodyAs]: body };
  } else if (body !== undefined) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError('body', 'the body must be a JSON object');
    fromBody = { ...(body as Record<string, unknown>) };
  }
  const query = req.query as Record<string, string | undefined>;
  // A misspelled query parameter is refused, as a misspelled body field is, not silently ignored.
  checkOptionKeys(query, binding.query ?? [], `${binding.method} ${binding.path}`, 'query parameter');
  const types = (op.input.properties ?? {}) as Record<string, { type?: unknown }>;
  const fromQuery: Record<string, unknown> = {};
  for (const name of binding.query ?? []) {
    const raw = query[name];
    if (raw === undefined || raw === '') continue; // an empty value (`?after=`) is no value
    const type = types[name]?.type;
    fromQuery[name] = type === 'integer' && /^-?\d+$/.test(raw) ? Number(raw) : type === 'boolean' && (raw === 'true' || raw === 'false') ? raw === 'true' : raw;
  }
  const input = { ...fromBody, ...fromQuery, ...(req.params as Record<string, string>) };
  return binding.fromHeaders ? binding.fromHeaders(req.headers, input) : input;
}

function contextFor(store: Store, principal: Principal, reply: FastifyReply): OperationContext {
  // The response's 'close' before it was sent means the client went away (the request's own
  // 'close' fires as soon as its body has been read).
  const gone = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableEnded) gone.abort();
  });
  return {
    access: principal,
    signal: gone.signal,
    authorize: (action, queue) => authorize(principal, action, queue),
    settleDenials: (ids) => settleDenials(store, principal, ids),
  };
}
