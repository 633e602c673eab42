import { crossSiteRefusal } from '../origin.ts';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SpoolError, UnauthorizedError } from '../../core/errors.ts';
import type { Lease } from '../../core/job.ts';
import type { BrokerHost } from '../host.ts';
import { CLOSE, SUBPROTOCOL, WS_PATH, type SessionLimits } from '../../protocol/frames.ts';
import type { Authenticate } from '../auth/authenticator.ts';
import type { Principal } from '../auth/scopes.ts';
import { authFailure, BrokerLog, clientText, requestFailure, statusOfCode } from '../logging.ts';
import { Session } from './session.ts';

export interface WebSocketOptions {
  limits: SessionLimits;
  /** Most WebSocket connections held at once; more are refused with 429 at the upgrade. */
  connectionsMax: number;
  /** How often the broker pings each connection; one that misses two pongs is closed. */
  heartbeatMs: number;
  /** How long a new connection has to send `hello`. */
  helloTimeoutMs: number;
  authenticate: Authenticate;
  node: string;
  /** The broker's log (docs/operations.md, Logs); none: quiet. */
  log?: BrokerLog;
}

/** The broker's WebSocket endpoint, attached to its HTTP(S) server. */
export interface WebSocketEndpoint {
  readonly connections: number;
  /** Closes every connection with "going away" (clients reconnect elsewhere) and stops accepting. */
  close(): Promise<void>;
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ code, message });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests' }[status] ?? 'Error';
  const extra = status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}

/**
 * Accepts WebSocket upgrades on {@link WS_PATH}. A token in the upgrade's `Authorization`
 * header is checked before the upgrade (401 there); without one, the `hello` frame must
 * carry it (browsers cannot set headers). Dead peers are found by ping/pong heartbeats.
 */
export function attachWebSocket(server: Server, spool: BrokerHost, options: WebSocketOptions): WebSocketEndpoint {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.limits.frameMaxBytes,
    perMessageDeflate: false, // compression costs more CPU than loopback and LAN bandwidth save
    clientTracking: true,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  const alive = new WeakMap<WebSocket, boolean>();
  const log = options.log ?? new BrokerLog(false);
  let connections = 0;
  /** Set once the broker closes: its clients reconnect elsewhere and extend, so their leases are left as they are. */
  let closing = false;
  // A closed connection's leases end within 1.5 heartbeats; the lease reaper (every maintenanceIntervalMs, at most
  // half a heartbeat) takes them back within 2, unless the worker reconnects (to any broker) and extends them first.
  const abandonWithinMs = Math.round(options.heartbeatMs * 1.5);
  const abandoned = (about: Record<string, unknown>) => (leases: { lease: Lease; expiresAt: number }[]) => {
    if (closing) return;
    spool.abandonLeases(leases, abandonWithinMs).then(
      (shortened) => log.write('leases abandoned', 'info', { ...about, leases: leases.length, shortened, withinMs: abandonWithinMs }),
      (err) => log.write('background error', 'error', { during: 'shortening the leases of a closed connection', err }),
    );
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const refused = (status: number, code: string, message: string) => {
      log.write('connection refused', status === 429 ? 'warn' : 'info', { remote, status, code });
      refuse(socket, status, code, message);
    };
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) return refused(404, 'NOT_FOUND', `WebSocket upgrades are served on ${WS_PATH}`);
    const crossSite = crossSiteRefusal(req.headers);
    if (crossSite) return refused(403, 'FORBIDDEN', crossSite);
    if (wss.clients.size >= options.connectionsMax) {
      return refused(429, 'TOO_MANY', `the broker holds its maximum of ${options.connectionsMax} connections (connectionsMax); try another broker or later`);
    }
    const offered = req.headers['sec-websocket-protocol'];
    if (offered !== undefined && !offered.split(',').some((p) => p.trim() === SUBPROTOCOL)) {
      return refused(400, 'UNSUPPORTED_VERSION', `this broker speaks the ${SUBPROTOCOL} subprotocol (offered: ${offered.slice(0, 100)})`);
    }
    const header = req.headers.authorization;
    const accepted = (access: Principal | null) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        alive.set(ws, true);
        ws.on('pong', () => alive.set(ws, true));
        ws.on('error', () => ws.terminate());
        // What every line about this connection says: its number in this broker, the peer, and once it said hello, who.
        const about: Record<string, unknown> = { transport: 'ws', conn: ++connections, remote };
        const openedAt = performance.now();
        let welcomed = false;
        const events = {
          welcomed: (client: unknown, principal: Principal) => {
            welcomed = true;
            Object.assign(about, { client: clientText(client) ?? null, tokenId: principal.tokenId });
            log.write('connection opened', 'info', about);
          },
          authFailed: (err: unknown, token: string | undefined) => {
            log.write('auth failed', 'warn', { ...about, ...authFailure(err, token === undefined ? undefined : `Bearer ${token}`) });
          },
          failed: (op: string, error: { code: string; message: string }, err?: unknown) => {
            const { level, fields } = requestFailure(statusOfCode(error.code), error.code, error.message, err);
            log.write('request failed', level, { ...about, op: clientText(op), ...fields });
          },
        };
        const peer = { id: `${options.node.slice(0, 8)}-${about.conn as number}`, address: remote };
        const session = new Session(ws, {
          spool, limits: options.limits, heartbeatMs: options.heartbeatMs, node: options.node, access, authenticate: options.authenticate, events, peer,
          abandoned: abandoned(about),
        });
        const helloTimer = setTimeout(() => {
          if (!session.welcomed) ws.close(CLOSE.timeout, 'no hello');
        }, options.helloTimeoutMs);
        ws.on('close', (code, reason) => {
          clearTimeout(helloTimer);
          // A connection that never said hello (a probe, a refused token) is not worth an info line.
          log.write('connection closed', welcomed ? 'info' : 'debug', {
            ...about, code, reason: clientText(reason.toString('utf8')) ?? '', durationMs: Math.round(performance.now() - openedAt),
          });
        });
      });
    options.authenticate(header).then(accepted, (err) => {
      // A bad header is refused now; a missing one may still be answered by hello's token.
      if (header === undefined) return accepted(null);
      const e = err instanceof SpoolError ? err : new UnauthorizedError('unauthorized');
      log.write('auth failed', 'warn', { transport: 'ws', remote, ...authFailure(e, header) });
      refuse(socket, 401, e.code, e.message);
    });
  };
  server.on('upgrade', onUpgrade);

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      closing = true;
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.close(CLOSE.goingAway, 'broker shutting down');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, 1000);
        wss.close(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
