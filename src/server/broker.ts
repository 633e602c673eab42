import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkLimit } from '../core/limits.ts';
import type { Spool } from '../engine/spool.ts';
import { WS_PATH } from '../protocol/frames.ts';
import { buildHttpApi, type ServerOptions } from './app.ts';
import type { Authenticate } from './auth/authenticator.ts';
import { ALL_ACCESS } from './auth/scopes.ts';
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
}

/** A running broker: the HTTP API and the WebSocket endpoint on one port. */
export interface Broker {
  /** `http://host:port` (or https). */
  readonly url: string;
  /** `ws://host:port/v1/ws` (or wss). */
  readonly wsUrl: string;
  readonly port: number;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Stops accepting, tells WebSocket clients to go elsewhere, and waits for HTTP requests in progress. Does not close the Spool. */
  close(): Promise<void>;
}

const openAccess: Authenticate = async () => ALL_ACCESS;

/**
 * Serves a Spool over HTTP and WebSocket.
 * @example
 * const spool = await Spool.open();
 * const broker = await startBroker(spool, { port: 7600 });
 * // … later
 * await broker.close();
 * await spool.close();
 */
export async function startBroker(spool: Spool, options: BrokerOptions = {}): Promise<Broker> {
  const bodyMaxBytes = checkLimit('bodyMaxBytes', options.bodyMaxBytes);
  const limits = {
    frameMaxBytes: bodyMaxBytes,
    batchMax: checkLimit('addManyMax', options.addManyMax),
    requestsInflightMax: checkLimit('requestsInflightMax', options.requestsInflightMax),
    inflightMax: checkLimit('consumerInflightMax', options.consumerInflightMax),
  };
  const app = buildHttpApi(spool, { ...options, bodyMaxBytes });
  const ws: WebSocketEndpoint = attachWebSocket(app.server as Server, spool, {
    limits,
    connectionsMax: checkLimit('connectionsMax', options.connectionsMax),
    heartbeatMs: checkLimit('wsHeartbeatMs', options.wsHeartbeatMs),
    helloTimeoutMs: checkLimit('helloTimeoutMs', options.helloTimeoutMs),
    authenticate: options.auth ? (header) => options.auth!.authenticate(header) : openAccess,
    node: spool.nodeId ?? randomUUID(),
  });
  const listenHost = options.host ?? '127.0.0.1';
  await app.listen({ host: listenHost, port: options.port ?? 7600 });
  const { port } = app.server.address() as AddressInfo;
  const host = listenHost.includes(':') ? `[${listenHost}]` : listenHost;
  const secure = options.tls !== undefined;
  let closing: Promise<void> | null = null;
  return {
    url: `${secure ? 'https' : 'http'}://${host}:${port}`,
    wsUrl: `${secure ? 'wss' : 'ws'}://${host}:${port}${WS_PATH}`,
    port,
    get connections() {
      return ws.connections;
    },
    close() {
      closing ??= (async () => {
        await ws.close();
        await app.close();
      })();
      return closing;
    },
  };
}
