import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError } from '../core/errors.ts';
import { checkLimit, describe } from '../core/limits.ts';
import { checkOptionKeys, checkOptionType } from '../core/options.ts';
import type { BrokerHost } from './host.ts';
import { WS_PATH } from '../protocol/frames.ts';
import { buildHttpApi, requesterOf, type ServerOptions } from './app.ts';
import type { Authenticate } from './auth/authenticator.ts';
import { ALL_ACCESS } from './auth/scopes.ts';
import { BrokerLog, isBrokerLogger, type BrokerLogger } from './logging.ts';
import { registerMetrics } from './metrics.ts';
import { startSqsEndpoint } from './sqs/server.ts';
import { attachWebSocket, type WebSocketEndpoint } from './ws/ws-server.ts';

/** Options for {@link startBroker}; every number is a setting in docs/configuration.md. */
export interface BrokerOptions extends ServerOptions {
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 7600. */
  port?: number;
  connectionsMax?: number;
  consumerInflightMax?: number;
  requestsInflightMax?: number;
  wsHeartbeatMs?: number;
  helloTimeoutMs?: number;
  addManyMax?: number;
  /** Serve Prometheus metrics at `GET /metrics` (docs/operations.md, Metrics). Default true. */
  metrics?: boolean;
  /** Queues `/metrics` labels by name; further queues are summed under `queue="_other"`. */
  metricsQueuesMax?: number;
  /**
   * Serve the SQS-compatible endpoint (docs/sqs.md) on its own port, on `host` (the broker's
   * unless given), with the broker's TLS and tokens. Absent: off.
   */
  sqs?: SqsOptions;
}

/** Options of the SQS endpoint. */
export interface SqsOptions {
  /** Its port; 0 picks a free one. */
  port: number;
  /** Address to listen on; default: the broker's `host`. */
  host?: string;
  /** Bounded by `sqsClockSkewMs`. */
  clockSkewMs?: number;
  /** Bounded by `sqsRedriveIntervalMs`. */
  redriveIntervalMs?: number;
}

/** A running broker: the HTTP API and the WebSocket endpoint on one port. */
export interface Broker {
  /** `http://host:port` (or https). */
  readonly url: string;
  /** `ws://host:port/v1/ws` (or wss). */
  readonly wsUrl: string;
  /** The SQS endpoint, `http://host:port` (or https), or null when it is off. */
  readonly sqsUrl: string | null;
  readonly port: number;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Stops accepting, tells WebSocket clients to go elsewhere, and waits for HTTP requests in progress. Does not close the Spool. */
  close(): Promise<void>;
}

const openAccess: Authenticate = async () => ALL_ACCESS;

/** Every key of {@link BrokerOptions}; others are refused. */
const BROKER_OPTIONS: Record<keyof BrokerOptions, true> = {
  host: true, port: true, tls: true, auth: true, bodyMaxBytes: true, idleTimeoutMs: true, receiveWaitMaxMs: true, connectionsMax: true,
  consumerInflightMax: true, requestsInflightMax: true, wsHeartbeatMs: true, helloTimeoutMs: true, addManyMax: true, logger: true,
  metrics: true, metricsQueuesMax: true, sqs: true,
};
export const BROKER_OPTION_KEYS: readonly (keyof BrokerOptions)[] = Object.keys(BROKER_OPTIONS) as (keyof BrokerOptions)[];

/** {@link BrokerOptions} validated, with every default filled in. */
export type ResolvedBrokerOptions = Required<Omit<BrokerOptions, 'tls' | 'auth' | 'logger' | 'sqs'>> & Pick<BrokerOptions, 'tls' | 'auth' | 'sqs'> & { logger: BrokerLogger | false };

/**
 * Validates every option of {@link startBroker} before anything listens: unknown keys are refused
 * naming the nearest valid one, numbers are checked against their limits (docs/configuration.md).
 * @throws InvalidArgumentError naming the field.
 */
export function resolveBrokerOptions(options: BrokerOptions = {}): ResolvedBrokerOptions {
  checkOptionKeys(options, BROKER_OPTION_KEYS, 'startBroker');
  checkOptionType(options.host, 'host', 'string');
  checkOptionType(options.metrics, 'metrics', 'boolean');
  const port = options.port ?? 7600;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('port', `port must be an integer from 0 to 65535 (got ${describe(port)})`);
  if (options.tls !== undefined) {
    checkOptionType(options.tls, 'tls', 'object');
    checkOptionKeys(options.tls, ['cert', 'key'], 'startBroker', 'tls option', 'tls.');
    if (!options.tls.cert || !options.tls.key) throw new InvalidArgumentError('tls', 'tls needs both cert and key (PEM)');
  }
  if (options.auth !== undefined && typeof (options.auth as { authenticate?: unknown } | null)?.authenticate !== 'function') {
    throw new InvalidArgumentError('auth', `auth must be an Authenticator (got ${describe(options.auth)})`);
  }
  if (options.logger !== undefined && options.logger !== false && !isBrokerLogger(options.logger)) {
    throw new InvalidArgumentError('logger', `logger must be a pino logger (an object with trace, debug, info, warn and error methods) or false (got ${describe(options.logger)})`);
  }
  return {
    host: options.host ?? '127.0.0.1',
    port,
    sqs: resolveSqsOptions(options.sqs),
    tls: options.tls,
    auth: options.auth,
    bodyMaxBytes: checkLimit('bodyMaxBytes', options.bodyMaxBytes),
    idleTimeoutMs: checkLimit('idleTimeoutMs', options.idleTimeoutMs),
    receiveWaitMaxMs: checkLimit('receiveWaitMaxMs', options.receiveWaitMaxMs),
    connectionsMax: checkLimit('connectionsMax', options.connectionsMax),
    consumerInflightMax: checkLimit('consumerInflightMax', options.consumerInflightMax),
    requestsInflightMax: checkLimit('requestsInflightMax', options.requestsInflightMax),
    wsHeartbeatMs: checkLimit('wsHeartbeatMs', options.wsHeartbeatMs),
    helloTimeoutMs: checkLimit('helloTimeoutMs', options.helloTimeoutMs),
    addManyMax: checkLimit('addManyMax', options.addManyMax),
    metrics: options.metrics ?? true,
    metricsQueuesMax: checkLimit('metricsQueuesMax', options.metricsQueuesMax),
    logger: options.logger ?? false,
  };
}

function resolveSqsOptions(sqs: SqsOptions | undefined): SqsOptions | undefined {
  if (sqs === undefined) return undefined;
  checkOptionType(sqs, 'sqs', 'object');
  checkOptionKeys(sqs, ['port', 'host', 'clockSkewMs', 'redriveIntervalMs'], 'startBroker', 'sqs option', 'sqs.');
  checkOptionType(sqs.host, 'sqs.host', 'string');
  if (!Number.isInteger(sqs.port) || sqs.port < 0 || sqs.port > 65535) throw new InvalidArgumentError('sqs.port', `sqs.port must be an integer from 0 to 65535 (got ${describe(sqs.port)})`);
  checkLimit('sqsClockSkewMs', sqs.clockSkewMs, 'sqs.clockSkewMs');
  checkLimit('sqsRedriveIntervalMs', sqs.redriveIntervalMs, 'sqs.redriveIntervalMs');
  return sqs;
}

/**
 * Serves a Spool over HTTP and WebSocket. Quiet unless given a `logger` (docs/operations.md, Logs);
 * give the engine's lines to the same logger with `Spool.open({ ...engineLogOptions(logger) })`.
 * @example
 * const spool = await Spool.open();
 * const broker = await startBroker(spool, { port: 7600 });
 * // … later
 * await broker.close();
 * await spool.close();
 */
export async function startBroker(spool: BrokerHost, options: BrokerOptions = {}): Promise<Broker> {
  const o = resolveBrokerOptions(options);
  const limits = {
    frameMaxBytes: o.bodyMaxBytes,
    batchMax: o.addManyMax,
    requestsInflightMax: o.requestsInflightMax,
    inflightMax: o.consumerInflightMax,
  };
  const log = new BrokerLog(o.logger);
  const app = buildHttpApi(spool, { bodyMaxBytes: o.bodyMaxBytes, idleTimeoutMs: o.idleTimeoutMs, receiveWaitMaxMs: o.receiveWaitMaxMs, auth: o.auth, tls: o.tls, logger: o.logger });
  const auth = o.auth;
  const ws: WebSocketEndpoint = attachWebSocket(app.server as Server, spool, {
    limits,
    connectionsMax: o.connectionsMax,
    heartbeatMs: o.wsHeartbeatMs,
    helloTimeoutMs: o.helloTimeoutMs,
    authenticate: auth ? (header) => auth.authenticate(header) : openAccess,
    node: spool.nodeId ?? randomUUID(),
    log,
  });
  // The metrics are per process (Prometheus sums instances): this process's model, not the cluster's.
  const source = { telemetry: spool.telemetry, overview: () => spool.processOverview(), health: () => spool.health(), connections: () => ws.connections };
  const metrics = o.metrics ? registerMetrics(app, source, { who: requesterOf(app), queuesMax: o.metricsQueuesMax }) : null;
  const listenHost = o.host;
  // A broker that cannot listen must not leave its metrics listening to the engine.
  await app.listen({ host: listenHost, port: o.port }).catch((err: unknown) => {
    metrics?.close();
    throw err;
  });
  // The queueing model's window and history start now, not at the first look at the dashboard.
  void spool.overview().catch(() => {});
  if (metrics) void spool.processOverview().catch(() => {}); // the metrics' own (this process's) window too
  const sqs = o.sqs
    ? await startSqsEndpoint(spool, {
      host: o.sqs.host ?? listenHost, port: o.sqs.port, tls: o.tls, auth: o.auth, logger: o.logger, bodyMaxBytes: o.bodyMaxBytes, idleTimeoutMs: o.idleTimeoutMs,
      ...(o.sqs.clockSkewMs === undefined ? {} : { clockSkewMs: o.sqs.clockSkewMs }),
      ...(o.sqs.redriveIntervalMs === undefined ? {} : { redriveIntervalMs: o.sqs.redriveIntervalMs }),
    }).catch(async (err: unknown) => {
      metrics?.close();
      await app.close();
      throw err;
    })
    : null;
  const { port } = app.server.address() as AddressInfo;
  const host = listenHost.includes(':') ? `[${listenHost}]` : listenHost;
  const secure = o.tls !== undefined;
  let closing: Promise<void> | null = null;
  const url = `${secure ? 'https' : 'http'}://${host}:${port}`;
  const wsUrl = `${secure ? 'wss' : 'ws'}://${host}:${port}${WS_PATH}`;
  log.write('broker listening', 'info', { url, wsUrl, ...(sqs ? { sqsUrl: sqs.url } : {}) });
  return {
    url,
    wsUrl,
    sqsUrl: sqs?.url ?? null,
    port,
    get connections() {
      return ws.connections;
    },
    close() {
      closing ??= (async () => {
        const startedAt = performance.now();
        log.write('broker closing', 'info', { connections: ws.connections });
        await ws.close();
        await sqs?.close();
        await app.close();
        metrics?.close();
        log.write('broker closed', 'info', { durationMs: Math.round(performance.now() - startedAt) });
      })();
      return closing;
    },
  };
}
