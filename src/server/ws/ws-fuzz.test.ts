/**
 * Property-based fuzzing (fast-check) of the WebSocket protocol, over real sockets:
 * arbitrary JSON, frames with a real `op` and wrong everything else, random text and
 * bytes, and frames around the frame size limit. Properties: the broker never crashes
 * and never answers INTERNAL; every frame is answered exactly once (a request with a
 * usable id by a reply with that id; a frame it cannot read by an `error` without one;
 * a well-formed `credit` by nothing); a malformed frame never closes the connection —
 * only a frame over the limit does (1009); and after each batch a fresh, normal session
 * (hello, publish, subscribe, ack) still works and /healthz still answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { Spool } from '../../engine/spool.ts';
import { CLOSE, PROTOCOL_VERSION, SUBPROTOCOL, type ServerFrame } from '../../protocol/frames.ts';
import { startBroker, type Broker } from '../broker.ts';
import { idArb, junk, message, nextFreshId } from '../../../test/support/frame-arbitraries.ts';

const FRAME_MAX_BYTES = 64 * 1024;
/** Sentinel pings use ids above any id the fuzzer makes, so their replies are never confused. */
const SENTINEL_BASE = 2 ** 52;
/** Runs of the main property; SPOOL_FUZZ_RUNS=20000 fuzzes longer. */
const RUNS = Number(process.env.SPOOL_FUZZ_RUNS ?? 400);

let spool: Spool;
let broker: Broker;
const errors: unknown[] = [];

before(async () => {
  spool = await Spool.open({ store: 'memory', payloadMaxBytes: 16 * 1024, onError: (err) => errors.push(err), log: () => {} });
  broker = await startBroker(spool, { port: 0, bodyMaxBytes: FRAME_MAX_BYTES, helloTimeoutMs: 60_000 });
});
after(async () => {
  await broker.close();
  await spool.close();
});

/** A bare socket that keeps every frame it receives, in order. */
class FuzzSocket {
  readonly ws: WebSocket;
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #wake: (() => void) | null = null;
  #sentinel = SENTINEL_BASE;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, 'the broker sends text frames only');
      this.frames.push(JSON.parse(String(data)) as ServerFrame);
      this.#wake?.();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      this.#wake?.();
    }));
  }

  static async open(): Promise<FuzzSocket> {
    const ws = new WebSocket(broker.wsUrl, SUBPROTOCOL, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const s = new FuzzSocket(ws);
    s.ws.send(JSON.stringify({ op: 'hello', v: PROTOCOL_VERSION }));
    const welcome = await s.take((f) => f.op === 'welcome' || f.op === 'error');
    assert.equal(welcome.op, 'welcome', JSON.stringify(welcome));
    return s;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Removes and returns the first received frame `match` accepts, waiting for it if need be. */
  async take(match: (f: ServerFrame) => boolean, timeoutMs = 5_000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i !== -1) return this.frames.splice(i, 1)[0]!;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`the broker closed the connection (${JSON.stringify(await this.closed)}) before the frame came`);
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms; received: ${JSON.stringify(this.frames).slice(0, 400)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
  }

  /**
   * A ping with an id of its own, and its reply. The broker reads frames in order and
   * answers a frame it cannot read before it reads the next, so when the ping's reply
   * is here, every id-less answer to the frames sent before it is here too.
   */
  async sync(): Promise<void> {
    const id = ++this.#sentinel;
    this.ws.send(JSON.stringify({ op: 'ping', id }));
    const reply = await this.take((f) => (f.op === 'ok' || f.op === 'error') && f.id === id);
    assert.equal(reply.op, 'ok', JSON.stringify(reply));
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) {
      this.ws.close(1000);
      await this.closed;
    }
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const describeSent = (sent: unknown) => (typeof sent === 'string' ? sent : Buffer.isBuffer(sent) ? `<${sent.length} bytes>` : JSON.stringify(sent)).slice(0, 300);

/**
 * Sends one fuzzed message and checks how it was answered. `message` is an object (sent
 * as JSON), a string (sent as a text frame) or a Buffer (a binary frame). Returns the
 * socket to go on with: a new one when this message was over the limit and closed it.
 */
async function sendAndCheck(s: FuzzSocket, message: unknown): Promise<FuzzSocket> {
  const text = typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message);
  const bytes = Buffer.byteLength(text);
  const before = s.frames.length;
  s.ws.send(text, { binary: Buffer.isBuffer(message) });
  if (bytes > FRAME_MAX_BYTES) {
    assert.equal((await s.closed).code, CLOSE.tooBig, `a ${bytes}-byte frame must close the connection with 1009`);
    return FuzzSocket.open();
  }
  await s.sync();
  // What the broker read: judged from the text sent, not the object it was made from (-0, __proto__ …).
  const frame = (() => {
    if (typeof text !== 'string') return null;
    try {
      const parsed = JSON.parse(text) as unknown;
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  })();
  const id = frame && !Array.isArray(frame) && isCount(frame.id) ? frame.id : undefined;
  // Answers without an id: sent at once, so all here by the time the sentinel's reply came.
  const idless = s.frames.slice(before).filter((f) => f.op === 'error' && f.id === undefined);
  for (const f of idless) s.frames.splice(s.frames.indexOf(f), 1);
  // The answer with the frame's id may take longer (a request runs against the engine).
  const isAnswer = (f: ServerFrame) => (f.op === 'ok' || f.op === 'error') && f.id === id;
  const withId: ServerFrame[] = [];
  if (id !== undefined && idless.length === 0 && frame!.op !== 'credit') withId.push(await s.take(isAnswer));
  // A credit is answered (if at all) at once, like a frame that cannot be read.
  else if (id !== undefined) while (s.frames.some(isAnswer)) withId.push(await s.take(isAnswer));
  const answers = [...idless, ...withId];
  if (process.env.SPOOL_FUZZ_STATS) for (const a of answers) tally(`${String(frame?.op ?? typeof message).slice(0, 12)}${frame?.op === 'call' ? `.${String(frame.method).slice(0, 12)}` : ''} → ${a.op === 'ok' ? 'ok' : (a as { error: { code: string } }).error.code}`);
  const label = describeSent(message);
  if (frame?.op === 'credit') {
    // A well-formed credit has no reply; a malformed one is refused like any other frame.
    assert.ok(answers.length <= 1 && answers.every((a) => a.op === 'error'), `credit ${label}: ${JSON.stringify(answers)}`);
  } else {
    assert.equal(answers.length, 1, `${label}: exactly one answer expected, got ${JSON.stringify(answers).slice(0, 300)}`);
  }
  if (id !== undefined && idless.length > 0) {
    // A usable id is echoed, except by the one frame that is never a request: a second hello.
    assert.equal(frame!.op, 'hello', `${label}: the refusal must carry the frame's id ${id}`);
  }
  for (const a of answers) {
    if (a.op === 'error') {
      assert.equal(typeof a.error.code, 'string', label);
      assert.equal(typeof a.error.message, 'string', label);
    }
  }
  // No INTERNAL anywhere, including per-item results inside an `ok`.
  assert.doesNotMatch(JSON.stringify(answers), /"code":"INTERNAL"/, `${label} → ${JSON.stringify(answers).slice(0, 300)}`);
  assert.ok(s.open, `${label}: a malformed frame closed the connection (${JSON.stringify(await Promise.race([s.closed, Promise.resolve(null)]))})`);
  // Pushes (deliveries to fuzzed subscriptions) are allowed; nothing else may be left over.
  const leftover = s.frames.filter((f) => f.op !== 'deliver' && f.op !== 'revoke');
  assert.deepEqual(leftover, [], `${label}: unexpected extra frames`);
  s.frames.length = 0;
  return s;
}

const tallies = new Map<string, number>();
const tally = (key: string) => tallies.set(key, (tallies.get(key) ?? 0) + 1);
after(() => {
  if (process.env.SPOOL_FUZZ_STATS) console.log([...tallies].sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
});

let checks = 0;
/** A fresh connection does what a normal client does: hello, publish, subscribe, receive, ack. And HTTP still answers. */
async function normalSessionWorks(): Promise<void> {
  const queue = `fuzz-check-${++checks}`;
  const s = await FuzzSocket.open();
  try {
    const published = await request(s, { op: 'publish', id: 1, queue, jobs: [{ payload: { n: checks } }] });
    const jobId = (published.result as { results: { ok: boolean; value: { id: string } }[] }).results[0]!.value.id;
    await request(s, { op: 'subscribe', id: 2, sub: 1, queue, credits: 1 });
    const delivered = await s.take((f) => f.op === 'deliver');
    assert.ok(delivered.op === 'deliver');
    assert.equal(delivered.jobs[0]!.id, jobId);
    const acked = await request(s, { op: 'ack', id: 3, leases: [{ jobId, token: delivered.jobs[0]!.leaseToken }] });
    assert.deepEqual(acked.result, { results: [{ ok: true }] });
    assert.equal((await spool.get(jobId)).state, 'completed');
  } finally {
    await s.close();
  }
  const res = await fetch(`${broker.url}/healthz`);
  assert.deepEqual([res.status, await res.json()], [200, { status: 'ok' }]);
}

async function request(s: FuzzSocket, frame: { op: string; id: number } & Record<string, unknown>) {
  s.ws.send(JSON.stringify(frame));
  const reply = await s.take((f) => (f.op === 'ok' || f.op === 'error') && f.id === frame.id);
  assert.equal(reply.op, 'ok', JSON.stringify(reply));
  return reply as Extract<ServerFrame, { op: 'ok' }>;
}

// ---- properties ------------------------------------------------------------------------

describe('WebSocket frames under fuzzing (fast-check)', () => {
  it('every frame is answered once, never with INTERNAL, without closing the connection', { timeout: 120_000 }, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 12 }), async (batch) => {
        let s = await FuzzSocket.open();
        try {
          for (const m of batch) s = await sendAndCheck(s, m);
        } finally {
          await s.close();
        }
        if (++runs % 50 === 0) await normalSessionWorks();
      }),
      { numRuns: RUNS },
    );
    await normalSessionWorks();
    assert.deepEqual(errors.filter((e) => !(e instanceof Error && /lease/.test(e.message))), [], 'no background errors in the engine');
  });

  it('random text and binary messages get an error frame each and leave the connection open', { timeout: 60_000 }, async () => {
    const s0 = await FuzzSocket.open();
    let s = s0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string({ maxLength: 500 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ maxLength: 500 }).map((a) => Buffer.from(a))), async (m) => {
          s = await sendAndCheck(s, m);
        }),
        { numRuns: 300 },
      );
    } finally {
      await s.close();
    }
    await normalSessionWorks();
  });

  it('a hello with anything in it either welcomes or refuses with one error; only a wrong version or bad token closes', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.record({ v: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.nat(3), junk), token: fc.oneof(fc.constant(undefined), junk), client: junk, id: idArb }, { requiredKeys: [] }), async (hello) => {
        const ws = new WebSocket(broker.wsUrl, SUBPROTOCOL, { perMessageDeflate: false });
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        const s = new FuzzSocket(ws);
        try {
          const text = JSON.stringify({ op: 'hello', ...hello, ...(hello.id === 'fresh' ? { id: nextFreshId() } : {}) });
          const frame = JSON.parse(text) as Record<string, unknown>;
          ws.send(text);
          const first = await s.take(() => true);
          const label = JSON.stringify(frame).slice(0, 200);
          const shapeOk = isCount(frame.v) && (frame.token === undefined || typeof frame.token === 'string');
          if (!shapeOk) {
            // Not a hello it can read: refused, and the connection waits for a proper one.
            assert.equal(first.op === 'error' && first.error.code, 'INVALID_ARGUMENT', `${label} → ${JSON.stringify(first)}`);
            assert.equal(first.op === 'error' && first.id, isCount(frame.id) ? frame.id : undefined, label);
            const ping = { op: 'ping', id: 1 };
            ws.send(JSON.stringify(ping));
            const refused = await s.take(() => true);
            assert.equal(refused.op === 'error' && refused.error.code, 'HELLO_REQUIRED', label);
            ws.send(JSON.stringify({ op: 'hello', v: PROTOCOL_VERSION }));
            assert.equal((await s.take(() => true)).op, 'welcome', label);
          } else if (frame.v !== PROTOCOL_VERSION) {
            assert.equal(first.op === 'error' && first.error.code, 'UNSUPPORTED_VERSION', label);
            assert.equal((await s.closed).code, CLOSE.unsupportedVersion, label);
          } else {
            // Auth is off: any token (or none) is welcome.
            assert.equal(first.op, 'welcome', `${label} → ${JSON.stringify(first)}`);
          }
          if (s.open) await s.sync();
          assert.deepEqual(s.frames, [], label);
        } finally {
          await s.close();
        }
      }),
      { numRuns: 150 },
    );
    await normalSessionWorks();
  });

  it('a frame over the size limit closes with 1009; one at the limit is read', { timeout: 60_000 }, async () => {
    const envelope = (payload: string) => JSON.stringify({ op: 'publish', id: 7, queue: 'fuzz-size', jobs: [{ payload }], atomic: true });
    const overhead = Buffer.byteLength(envelope(''));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -64, max: 64 }), fc.boolean(), async (delta, binary) => {
        const bytes = FRAME_MAX_BYTES + delta;
        const text = binary ? Buffer.alloc(bytes, 0x7b) : envelope('y'.repeat(bytes - overhead));
        assert.equal(Buffer.byteLength(text), bytes);
        const s = await FuzzSocket.open();
        s.ws.send(text, { binary });
        if (bytes > FRAME_MAX_BYTES) {
          assert.equal((await s.closed).code, CLOSE.tooBig, `${bytes} bytes`);
        } else {
          // At or under the limit: read and answered (the payload is over payloadMaxBytes, or the bytes are binary).
          const reply = await s.take((f) => f.op === 'ok' || f.op === 'error');
          assert.equal(reply.op, 'error', `${bytes} bytes`);
          assert.equal(reply.op === 'error' && reply.error.code, binary ? 'INVALID_ARGUMENT' : 'PAYLOAD_TOO_LARGE', `${bytes} bytes: ${JSON.stringify(reply).slice(0, 200)}`);
          assert.ok(s.open);
          await s.close();
        }
      }),
      { numRuns: 40 },
    );
    await normalSessionWorks();
  });

  it('an invalid UTF-8 text frame fails the connection (1007, RFC 6455) and the broker keeps serving', async () => {
    const s = await FuzzSocket.open();
    s.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assert.equal((await s.closed).code, 1007);
    await normalSessionWorks();
  });

  it('every fuzzing connection was released', async () => {
    for (let i = 0; i < 100 && broker.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(broker.connections, 0);
  });
});
