import WebSocket from 'ws';
import { ClosedError, ConnectionLostError, SpoolError, UnavailableError } from '../core/errors.ts';
import { Health } from '../core/health.ts';
import type { Clock } from '../core/clock.ts';
import {
  PROTOCOL_VERSION, SUBPROTOCOL, type ClientFrame, type DeliverFrame, type RevokeFrame, type ServerFrame, type SessionLimits, type WelcomeFrame,
} from '../protocol/frames.ts';
import { errorFromWire } from '../protocol/wire-errors.ts';
import { LIMITS } from '../core/limits.ts';

/** How a client finds and reaches its brokers. */
export interface ConnectionOptions {
  /** Broker WebSocket URLs (`ws://host:7600/v1/ws`, or `http://host:7600`, which is turned into one). Tried in turn. */
  urls: readonly string[];
  token?: string;
  /** A name for the broker's logs. */
  client?: string;
  /** Tags for the dashboard and the overview's consumers, e.g. `{ region: 'eu-west-1', gpu: 'a100' }`: at most 16 names (1–64 letters, digits, '.', '_', ':' or '-') to strings of at most 256 characters. */
  tags?: Readonly<Record<string, string>>;
  /** First reconnect delay; each failed try doubles it, up to reconnectMaxMs, with full jitter. Default 100 ms. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** How long the first connect may take before `connect()` gives up. Default 10 s. */
  connectTimeoutMs?: number;
  /** Socket bytes queued for sending above which publishes wait. Default 4 MiB. */
  sendBufferMaxBytes?: number;
  /** TLS: extra CA certificates to trust (e.g. a private CA). */
  ca?: string | Buffer;
  clock: Clock;
  log: (line: string) => void;
  random: () => number;
}

type Request = Exclude<ClientFrame, { op: 'hello' | 'credit' }>;
type Outgoing = Request extends infer F ? (F extends { id: number } ? Omit<F, 'id'> : never) : never;

interface Pending {
  frame: Request;
  /** Re-sent after a reconnect (lease ops, publishes, calls), or failed (subscribe, ping: their owner redoes them). */
  resend: boolean;
  sent: number;
  resolve: (result: { value: unknown; resent: boolean }) => void;
  reject: (err: unknown) => void;
}

/** Turns `http://h:p` (or a bare `h:p`) into the broker's WebSocket URL. */
export function toWsUrl(url: string): string {
  const u = new URL(/^[a-z]+:\/\//i.test(url) ? url : `ws://${url}`);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/ws';
  return u.toString();
}

/**
 * One logical connection to a set of brokers: a WebSocket to one of them at a time,
 * re-established with backoff and jitter when it drops. Requests wait through a
 * reconnect and are sent again (lease operations stay valid while their lease lasts).
 */
export class Connection {
  readonly #o: ConnectionOptions;
  readonly #urls: string[];
  readonly #pending = new Map<number, Pending>();
  readonly health: Health;
  #ws: WebSocket | null = null;
  #welcome: WelcomeFrame | null = null;
  /** The last broker's limits; kept while reconnecting, so batchers can be made at any time. */
  #limits: SessionLimits | null = null;
  /**
   * Requests sent on the current socket and not answered yet. Never more than the broker's
   * requestsInflightMax: the rest wait in #queue, so a burst never earns TOO_MANY refusals.
   */
  readonly #onWire = new Set<number>();
  /** Ids of requests waiting for a free slot on the wire, oldest first. */
  #queue: number[] = [];
  #nextId = 1;
  #urlIndex = 0;
  #failures = 0;
  #closed = false;
  /** A refusal that retrying cannot fix (bad token, unknown protocol version). */
  #fatal: SpoolError | null = null;
  /** Why the last connection attempt failed, for the message of a connect() that gives up. */
  #lastError: { text: string; cause: unknown } | null = null;
  /**
   * When the broker was last heard from, in real (monotonic) time: the watchdog's interval is a
   * real timer, so silence is measured in real time too. Measured on `clock`, a manual clock moved
   * ahead by a test (or a wall clock stepped) would make a healthy connection look silent.
   */
  #lastHeard = 0;
  #watchdog: NodeJS.Timeout | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #writableWaiters: (() => void)[] = [];
  #upWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  onPush: (frame: DeliverFrame | RevokeFrame) => void = () => {};
  /** Called after every (re)connect, before pending requests are sent again. */
  onUp: () => void = () => {};

  constructor(options: ConnectionOptions) {
    this.#o = options;
    this.#urls = options.urls.map(toWsUrl);
    this.health = new Health(options.clock, options.log);
  }

  /** The broker's limits, as its last welcome told them (known once start() resolved). */
  get limits(): SessionLimits {
    if (!this.#limits) throw new ClosedError('remote Spool (never connected)');
    return this.#limits;
  }

  get connected(): boolean {
    return this.#welcome !== null;
  }

  /** Connects to the first broker that answers; rejects after connectTimeoutMs or on a refusal (bad token). */
  start(): Promise<void> {
    this.#dial();
    const timeoutMs = this.#o.connectTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.close();
        const last = this.#lastError;
        const why = last ? `the last attempt failed: ${last.text}` : 'is `spool serve` running there?';
        reject(new UnavailableError(`could not reach a broker at ${this.#urls.join(', ')} within ${timeoutMs} ms; ${why}`, last ? { cause: last.cause } : undefined));
      }, timeoutMs);
      this.#upWaiters.push({
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (e) => { clearTimeout(timer); void this.close(); reject(e); },
      });
    });
  }

  /** Sends a request; resolves with its result (and whether it had to be sent twice). */
  request(frame: Outgoing, resend = true): Promise<{ value: unknown; resent: boolean }> {
    if (this.#closed) return Promise.reject(this.#fatal ?? new ClosedError('remote Spool'));
    const id = this.#nextId++;
    const full = { ...frame, id } as Request;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { frame: full, resend, sent: 0, resolve, reject });
      if (this.#welcome) {
        this.#queue.push(id);
        this.#pump();
      }
    });
  }

  /** Sends a frame that has no reply (credit); dropped while disconnected — subscriptions resend their state on reconnect. */
  post(frame: ClientFrame): void {
    if (this.#welcome && this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(frame));
  }

  /**
   * Resolves when another request may be sent without growing memory without bound:
   * connected, fewer requests in flight than the broker allows, and the socket buffer drained.
   */
  writable(): Promise<void> {
    if (this.#isWritable()) return Promise.resolve();
    if (this.#closed) return Promise.reject(this.#fatal ?? new ClosedError('remote Spool'));
    return new Promise((resolve) => this.#writableWaiters.push(resolve));
  }

  #isWritable(): boolean {
    return this.#welcome !== null && this.#pending.size < this.#welcome.limits.requestsInflightMax &&
      (this.#ws?.bufferedAmount ?? 0) < (this.#o.sendBufferMaxBytes ?? 4 * 1024 * 1024);
  }

  #wakeWriters(): void {
    while (this.#writableWaiters.length > 0 && this.#isWritable()) this.#writableWaiters.shift()!();
  }

  /** Sends queued requests while the broker has room for them. */
  #pump(): void {
    while (this.#welcome && this.#queue.length > 0 && this.#onWire.size < this.#welcome.limits.requestsInflightMax) {
      const id = this.#queue.shift()!;
      if (this.#pending.has(id)) this.#transmit(id);
    }
  }

  #transmit(id: number): void {
    const p = this.#pending.get(id)!;
    p.sent++;
    this.#onWire.add(id);
    this.#ws!.send(JSON.stringify(p.frame), () => this.#wakeWriters());
  }

  #dial(): void {
    if (this.#closed) return;
    const url = this.#urls[this.#urlIndex % this.#urls.length]!;
    const headers: Record<string, string> = this.#o.token ? { authorization: `Bearer ${this.#o.token}` } : {};
    const ws = new WebSocket(url, SUBPROTOCOL, { headers, perMessageDeflate: false, handshakeTimeout: 5_000, ...(this.#o.ca ? { ca: this.#o.ca } : {}) });
    this.#ws = ws;
    ws.on('open', () => {
      this.#lastHeard = performance.now();
      ws.send(JSON.stringify({ op: 'hello', v: PROTOCOL_VERSION, ...(this.#o.client ? { client: this.#o.client } : {}), ...(this.#o.tags ? { tags: this.#o.tags } : {}) }));
    });
    ws.on('ping', () => (this.#lastHeard = performance.now()));
    ws.on('message', (data) => {
      this.#lastHeard = performance.now();
      this.#onFrame(JSON.parse(String(data)) as ServerFrame);
    });
    ws.on('unexpected-response', (_req, res) => {
      // A refusal at the upgrade (401, 429 …) comes as an HTTP response with a JSON body.
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => {
        const wire = safeParse(body) ?? { code: `HTTP_${res.statusCode}`, message: `broker answered ${res.statusCode}` };
        this.#lastError = { text: `${url} answered HTTP ${res.statusCode}: ${wire.message}`, cause: errorFromWire(wire) };
        if (res.statusCode === 401) this.#fail(errorFromWire(wire));
        ws.terminate();
      });
    });
    ws.on('error', (err) => (this.#lastError = { text: `${url}: ${dialErrorText(err)}`, cause: err })); // 'close' follows and reconnects
    ws.on('close', () => this.#onDown(ws));
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.op) {
      case 'welcome':
        this.#welcome = frame;
        this.#limits = frame.limits;
        this.#failures = 0;
        this.#startWatchdog(frame.heartbeatMs);
        this.health.up();
        // Requests from before this connection go first, oldest first (Map order is id order);
        // then the subscriptions onUp opens again. #onDown emptied the queue and the wire.
        for (const [id, p] of this.#pending) if (p.sent === 0 || p.resend) this.#queue.push(id);
        this.onUp();
        this.#pump();
        for (const w of this.#upWaiters.splice(0)) w.resolve();
        this.#wakeWriters();
        return;
      case 'ok':
      case 'error': {
        if (frame.op === 'error' && frame.id === undefined) {
          if (!this.#welcome && ['UNAUTHORIZED', 'UNSUPPORTED_VERSION'].includes(frame.error.code)) this.#fail(errorFromWire(frame.error));
          return;
        }
        const p = this.#pending.get(frame.id!);
        if (!p) return;
        if (frame.op === 'error' && frame.error.code === 'TOO_MANY') {
          // The broker is busy with this connection's requests: send it again shortly, on this
          // socket only (after a reconnect it is queued again anyway). It keeps its slot meanwhile.
          const ws = this.#ws;
          setTimeout(() => {
            if (this.#ws === ws && this.#welcome && this.#onWire.has(frame.id!)) {
              p.sent++;
              ws!.send(JSON.stringify(p.frame));
            }
          }, Number(frame.error.retryAfterMs) || 10);
          return;
        }
        this.#pending.delete(frame.id!);
        this.#onWire.delete(frame.id!);
        if (frame.op === 'ok') p.resolve({ value: frame.result, resent: p.sent > 1 });
        else p.reject(errorFromWire(frame.error));
        this.#pump();
        this.#wakeWriters();
        return;
      }
      case 'overview':
        return; // this client never sends watch; the dashboard does
      default:
        this.onPush(frame);
    }
  }

  #startWatchdog(heartbeatMs: number): void {
    if (this.#watchdog) clearInterval(this.#watchdog);
    // Silence for 2.5 heartbeats means the broker or the path to it is gone, even if TCP has not noticed.
    this.#watchdog = setInterval(() => {
      if (performance.now() - this.#lastHeard > heartbeatMs * 2.5) this.#ws?.terminate();
    }, heartbeatMs);
    this.#watchdog.unref();
  }

  #onDown(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    const wasUp = this.#welcome !== null;
    this.#welcome = null;
    this.#ws = null;
    this.#onWire.clear();
    this.#queue = [];
    if (this.#watchdog) clearInterval(this.#watchdog);
    for (const [id, p] of this.#pending) {
      if (p.sent > 0 && !p.resend) {
        this.#pending.delete(id);
        p.reject(new ConnectionLostError());
      }
    }
    if (this.#closed) return;
    if (wasUp) this.health.down(`lost the connection to the broker at ${this.#urls[this.#urlIndex % this.#urls.length]}; reconnecting`);
    this.#urlIndex++;
    this.#failures++;
    const capMs = Math.min(this.#o.reconnectMaxMs ?? LIMITS.reconnectMaxMs.default, (this.#o.reconnectBaseMs ?? LIMITS.reconnectBaseMs.default) * 2 ** Math.min(this.#failures - 1, 16));
    // Full jitter: clients that lost the same broker do not all come back at the same instant.
    this.#retryTimer = setTimeout(() => this.#dial(), Math.floor(this.#o.random() * capMs));
  }

  #fail(err: SpoolError): void {
    this.#fatal = err;
    for (const w of this.#upWaiters.splice(0)) w.reject(err);
    void this.close();
  }

  /** Closes the socket; requests still waiting fail with ClosedError (or the refusal that ended the connection). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#watchdog) clearInterval(this.#watchdog);
    const err = this.#fatal ?? new ClosedError('remote Spool');
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#onWire.clear();
    this.#queue = [];
    for (const w of this.#writableWaiters.splice(0)) w();
    const ws = this.#ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000);
        setTimeout(() => { ws.terminate(); resolve(); }, 1000).unref();
      });
    }
  }

  /** Requests not yet answered; lets close() wait for the last acks. */
  get inFlight(): number {
    return this.#pending.size;
  }
}

/** TLS verification failures: retrying cannot fix them, but trusting the broker's CA can. */
const CERT_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** One line on why a WebSocket could not be opened, with what to do about a certificate that is not trusted. */
function dialErrorText(err: Error & { code?: string }): string {
  const text = err.code && !err.message.includes(err.code) ? `${err.message} (${err.code})` : err.message;
  if (err.code === 'ECONNREFUSED') return `${text}; is \`spool serve\` running there?`;
  return err.code && CERT_ERRORS.has(err.code) ? `${text}; the broker's TLS certificate is not trusted: pass its CA certificate as the \`ca\` option` : text;
}

function safeParse(text: string): { code: string; message: string } | null {
  try {
    const v = JSON.parse(text) as { code?: unknown; message?: unknown };
    return typeof v.code === 'string' && typeof v.message === 'string' ? { code: v.code, message: v.message } : null;
  } catch {
    return null;
  }
}
