/**
 * The SQS-compatible endpoint (docs/sqs.md): its own HTTP listener that speaks SQS's JSON protocol
 * (`X-Amz-Target: AmazonSQS.<Action>`) and its Query protocol (form-encoded `Action=…`, XML
 * replies), checks SigV4 signatures, and runs each action over the operation table.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { checkLimit } from '../../core/limits.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { ALL_ACCESS, type Principal } from '../auth/scopes.ts';
import type { BrokerHost } from '../host.ts';
import { BrokerLog, clientText, requestFailure, type BrokerLogger } from '../logging.ts';
import { ACTIONS, UNSUPPORTED } from './actions.ts';
import { QueueCache, SqsContext } from './context.ts';
import { SqsCredentials } from './credentials.ts';
import { SqsError, toSqsError } from './errors.ts';
import { queryInput } from './query.ts';
import { startRedriveSweep } from './redrive.ts';
import { parseAuthorization, verifySignature } from './sigv4.ts';
import { xmlError, xmlResponse } from './xml.ts';

export interface SqsEndpointOptions {
  host: string;
  port: number;
  tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  auth?: Authenticator | undefined;
  logger?: BrokerLogger | false;
  /** How far a request's signing time may be from this server's clock. */
  clockSkewMs?: number;
  /** How often dead-lettered jobs of queues with a RedrivePolicy move to their dead-letter queue. */
  redriveIntervalMs?: number;
  /** Largest request body. */
  bodyMaxBytes?: number;
  idleTimeoutMs?: number;
}

export interface SqsEndpoint {
  /** `http(s)://host:port`: the endpoint to give the SDKs. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/x-amz-json-1.0';
type Protocol = 'json' | 'query';

/** The action and its input, from either protocol. */
function parse(req: FastifyRequest, body: Buffer): { protocol: Protocol; action: string | null; input: Record<string, unknown> } {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const action = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : null;
    let input: unknown = {};
    if (body.length > 0) {
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch {
        throw Object.assign(new SqsError('InvalidParameterValue', 'The request body is not valid JSON.'), { protocol: 'json' });
      }
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw Object.assign(new SqsError('InvalidParameterValue', 'The request body must be a JSON object.'), { protocol: 'json' });
    return { protocol: 'json', action, input: input as Record<string, unknown> };
  }
  const params = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
  const { action, input } = queryInput(params);
  // Older SDKs send Query requests to the queue's URL instead of giving QueueUrl.
  const path = req.url.split('?', 1)[0]!;
  if (input.QueueUrl === undefined && /^\/[^/]+\/[^/]+$/.test(path)) input.QueueUrl = path;
  return { protocol: 'query', action, input };
}

/**
 * Starts the SQS endpoint for a broker's Spool.
 * @example
 * const sqs = await startSqsEndpoint(spool, { host: '127.0.0.1', port: 9324 });
 */
export async function startSqsEndpoint(host: BrokerHost, options: SqsEndpointOptions): Promise<SqsEndpoint> {
  const skewMs = checkLimit('sqsClockSkewMs', options.clockSkewMs);
  const bodyMaxBytes = checkLimit('bodyMaxBytes', options.bodyMaxBytes);
  const log = new BrokerLog(options.logger);
  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    bodyLimit: bodyMaxBytes, connectionTimeout: 0, keepAliveTimeout: checkLimit('idleTimeoutMs', options.idleTimeoutMs), logger: false,
  });
  app.removeAllContentTypeParsers();
  // The signature covers the body's bytes: keep them as they came.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: bodyMaxBytes }, (_req, body, done) => done(null, body));
  const cache = new QueueCache(1000);
  // Requests in progress, so a close ends their long polls at once instead of waiting up to 20 s.
  const inProgress = new Set<AbortController>();
  const credentials = options.auth ? new SqsCredentials(host.store, host.clock, options.auth.cacheMs) : null;
  const scheme = options.tls ? 'https' : 'http';

  async function principalOf(req: FastifyRequest, body: Buffer): Promise<{ principal: Principal; region: string }> {
    const auth = options.auth;
    if (!auth || !(await auth.enforced())) {
      const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'us-east-1';
      return { principal: ALL_ACCESS, region };
    }
    const parts = parseAuthorization(typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined);
    const { secret, principal } = await credentials!.lookup(parts.accessKeyId);
    const [path, query = ''] = req.url.split('?', 2) as [string, string?];
    const q: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(query)) q[k] = k in q ? [q[k]!].flat().concat(v) : v;
    await verifySignature({ method: req.method, path, query: q, headers: req.headers, body }, parts, secret, host.clock.now(), skewMs);
    return { principal, region: parts.region };
  }

  /** The reply in the request's protocol (the XML is written only for the Query protocol). */
  function send(reply: FastifyReply, protocol: Protocol, requestId: string, status: number, json: unknown, xml: () => string): FastifyReply {
    void reply.header('x-amzn-requestid', requestId).status(status);
    return protocol === 'json' ? reply.type(JSON_TYPE).send(JSON.stringify(json)) : reply.type('text/xml').send(xml());
  }

  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const requestId = randomUUID();
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let protocol: Protocol = typeof req.headers['x-amz-target'] === 'string' ? 'json' : 'query';
    let action: string | null = null;
    try {
      const parsed = parse(req, body);
      protocol = parsed.protocol;
      action = parsed.action;
      const { principal, region } = await principalOf(req, body);
      const run = action === null ? undefined : ACTIONS[action];
      if (!run) {
        if (action !== null && UNSUPPORTED.has(action)) throw new SqsError('UnsupportedOperation', `${action} is not supported by Spool's SQS endpoint (see docs/sqs.md).`);
        throw new SqsError('InvalidAction', `The action ${action ?? '(none)'} is not valid for this endpoint.`);
      }
      const gone = new AbortController();
      inProgress.add(gone);
      reply.raw.on('close', () => {
        inProgress.delete(gone);
        if (!reply.raw.writableEnded) gone.abort();
      });
      const ctx = new SqsContext(host, principal, gone.signal, region, `${scheme}://${req.headers.host ?? `${options.host}:${options.port}`}`, cache);
      const output = (await run(ctx, parsed.input)) as Record<string, unknown>;
      return send(reply, protocol, requestId, 200, output, () => xmlResponse(action!, output, requestId));
    } catch (err) {
      const e = toSqsError(err);
      const { status, query, fault } = e.spec;
      if (status >= 500) log.write('request failed', 'error', { transport: 'sqs', action, err });
      else log.write('request failed', requestFailure(status, e.code, e.message, err).level, { transport: 'sqs', action, status, code: e.code, message: clientText(e.message) });
      void reply.header('x-amzn-query-error', `${query};${fault}`);
      return send(reply, protocol, requestId, status, { __type: `com.amazonaws.sqs#${e.code}`, message: e.message }, () => xmlError(fault, query, e.message, requestId));
    }
  };
  app.route({ method: ['GET', 'POST'], url: '/*', handler: handle });

  const sweep = startRedriveSweep(host, checkLimit('sqsRedriveIntervalMs', options.redriveIntervalMs), (err) => log.write('background error', 'error', { during: 'sqs redrive', err }));
  await app.listen({ host: options.host, port: options.port }).catch((err: unknown) => {
    sweep.stop();
    throw err;
  });
  const { port } = app.server.address() as AddressInfo;
  const h = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `${scheme}://${h}:${port}`,
    port,
    async close() {
      sweep.stop();
      for (const c of inProgress) c.abort();
      await app.close();
    },
  };
}

