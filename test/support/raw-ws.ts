import WebSocket from 'ws';
import { SUBPROTOCOL } from '../../src/protocol/frames.ts';

type Frame = Record<string, any>;

/**
 * A bare protocol client for tests: sends frames as given and lets the test wait for
 * the frames it expects, so each frame type is exercised exactly as a client in any
 * language would send it.
 */
export class RawWs {
  readonly ws: WebSocket;
  readonly received: Frame[] = [];
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  #nextId = 1;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      const i = this.#waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(frame);
      else this.received.push(frame);
    });
  }

  /** Opens a socket; with `hello`, also says hello and waits for the welcome. */
  static async open(url: string, options: { hello?: boolean; headers?: Record<string, string>; token?: string; protocol?: string } = {}): Promise<RawWs> {
    const ws = new WebSocket(url, options.protocol ?? SUBPROTOCOL, { headers: options.headers ?? {} });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const raw = new RawWs(ws);
    if (options.hello !== false) {
      raw.send({ op: 'hello', v: 1, ...(options.token ? { token: options.token } : {}) });
      const welcome = await raw.next((f) => f.op === 'welcome' || f.op === 'error');
      if (welcome.op !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(welcome)}`);
    }
    return raw;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame matching `match` (one already received counts), waiting up to `timeoutMs`. */
  next(match: (f: Frame) => boolean = () => true, timeoutMs = 5_000): Promise<Frame> {
    const i = this.received.findIndex(match);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (f: Frame) => { clearTimeout(timer); resolve(f); } };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1); // a later frame must not go to a waiter that gave up
        reject(new Error(`no matching frame within ${timeoutMs} ms; received: ${JSON.stringify(this.received).slice(0, 500)}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Sends a request with a fresh id and waits for its reply (`ok` or `error`). */
  async request(frame: Frame, timeoutMs?: number): Promise<Frame> {
    const id = this.#nextId++;
    this.send({ ...frame, id });
    return this.next((f) => (f.op === 'ok' || f.op === 'error') && f.id === id, timeoutMs);
  }

  /** Like request, but throws unless the reply is `ok`; returns its result. */
  async ok(frame: Frame): Promise<any> {
    const reply = await this.request(frame);
    if (reply.op !== 'ok') throw new Error(`${frame.op} failed: ${JSON.stringify(reply.error)}`);
    return reply.result;
  }

  close(): Promise<unknown> {
    this.ws.close();
    return this.closed;
  }
}
