import type { WebSocket } from 'ws';
import { InvalidArgumentError, SpoolError } from '../../core/errors.ts';
import { leaseKey, type Lease } from '../../core/job.ts';
import {
  CLOSE, PROTOCOL_VERSION, toAddItem, type ClientFrame, type ItemResult, type LeaseItem, type ServerFrame, type SessionLimits, type SubscribeFrame, type WireError,
} from '../../protocol/frames.ts';
import { errorToWire } from '../../protocol/wire-errors.ts';
import type { ConsumerOwner, Subscription } from '../../worker/consumer.ts';
import type { Overview } from '../../model/overview.ts';
import { OPERATION, type Action } from '../../api/operations.ts';
import type { BrokerHost } from '../host.ts';
import { authorize, settleDenials } from '../auth/permissions.ts';
import type { Authenticate } from '../auth/authenticator.ts';
import type { Principal } from '../auth/scopes.ts';
import { runCall } from './calls.ts';
import { compactConfirm, withoutPayload } from '../../protocol/confirm.ts';
import { checkFrame, FrameError } from './frame-check.ts';

export interface SessionOptions {
  spool: BrokerHost;
  limits: SessionLimits;
  heartbeatMs: number;
  node: string;
  /** What the upgrade's Authorization header allowed, or null when `hello` must carry a token. */
  access: Principal | null;
  authenticate: Authenticate;
  /** Told what the broker's log says about this connection. */
  events?: SessionEvents;
  /** The connection's id on this broker and the peer's address, for the overview's consumers. */
  peer?: { id: string; address: string };
  /**
   * The connection closed while holding leases (delivered here, or extended here after a
   * reconnect, and not settled): each with the end its holder last set. Called once, after the
   * requests still running on the connection have ended.
   */
  abandoned?(leases: { lease: Lease; expiresAt: number }[]): void;
}

/** What a session tells the broker's log. */
export interface SessionEvents {
  /** `hello` was accepted: the client's name (what it said, unchecked) and what its token allows. */
  welcomed(client: unknown, access: Principal): void;
  /** `hello`'s token was refused; `token` is the text it carried, to be kept out of the log. */
  authFailed(err: unknown, token: string | undefined): void;
  /** A frame was answered with an error (`err`, when there was one thrown, has the stack a fault of ours needs). */
  failed(op: string, error: WireError, err?: unknown): void;
}

/** How often a watching connection is sent the overview. */
const WATCH_INTERVAL_MS = 1000;

interface RemoteSub {
  queue: string;
  sub: Subscription;
  /** Credits granted and not yet used by a delivery. */
  granted: number;
}

/**
 * One WebSocket connection: reads frames, runs them against the engine, answers each
 * request once. Jobs delivered here stay leased when the connection drops — the client
 * may reconnect (to any broker on a shared store) and settle them while their lease lasts;
 * the broker is told which (`abandoned`), so it can make them end sooner than their
 * visibility timeout (within two heartbeats) unless the client is back to extend them.
 */
export class Session {
  readonly #ws: WebSocket;
  readonly #o: SessionOptions;
  #access: Principal | null;
  #welcomed = false;
  #closed = false;
  readonly #subs = new Map<number, RemoteSub>();
  /** Leases delivered on this connection and not settled: `jobId/token` → its queue. Bounded by limits.inflightMax. */
  readonly #delivered = new Map<string, string>();
  /**
   * Leases this connection holds (delivered here, or extended here after a reconnect) and not
   * settled: `jobId/token` → the lease and the end last set for it. Bounded by limits.inflightMax
   * plus the leases one request may carry: beyond, an extended lease is not tracked (it then
   * runs to its own end if the connection drops).
   */
  readonly #held = new Map<string, { lease: Lease; expiresAt: number }>();
  /** Lease operations running: a close waits for them before it reports what is still held. */
  readonly #running = new Set<Promise<unknown>>();
  #requests = 0;
  readonly #connectedAt = Date.now();
  #lastSeenAt = Date.now();
  #client = '';
  #tags: Readonly<Record<string, string>> = {};
  #watching: NodeJS.Timeout | null = null;

  constructor(ws: WebSocket, options: SessionOptions) {
    this.#ws = ws;
    this.#o = options;
    this.#access = options.access;
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('close', () => this.#onClose());
  }

  get welcomed(): boolean {
    return this.#welcomed;
  }

  #send(frame: ServerFrame): void {
    if (!this.#closed) this.#ws.send(JSON.stringify(frame));
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#lastSeenAt = Date.now();
    let frame: ClientFrame;
    try {
      if (isBinary) throw new FrameError('frames are JSON text, not binary', undefined);
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString('utf8'));
      } catch {
        throw new FrameError('a frame must be valid JSON', undefined);
      }
      frame = checkFrame(parsed, this.#o.limits.batchMax);
    } catch (err) {
      const error = errorToWire(err);
      this.#send({ op: 'error', ...(err instanceof FrameError && err.frameId !== undefined ? { id: err.frameId } : {}), error });
      this.#o.events?.failed('frame', error, err);
      return;
    }
    if (frame.op === 'hello') return void this.#hello(frame.v, frame.token, frame.client, frame.tags);
    if (!this.#welcomed) {
      const error = { code: 'HELLO_REQUIRED', message: 'send a hello frame first' };
      this.#send({ op: 'error', ...('id' in frame ? { id: frame.id } : {}), error });
      this.#o.events?.failed(frame.op, error);
      return;
    }
    if (frame.op === 'credit') return this.#credit(frame.sub, frame.n);
    if (this.#requests >= this.#o.limits.requestsInflightMax) {
      const message = `more than ${this.#o.limits.requestsInflightMax} requests of this connection are in progress; wait for replies (requestsInflightMax)`;
      const error = { code: 'TOO_MANY', message, retryAfterMs: 10 };
      this.#send({ op: 'error', id: frame.id, error });
      this.#o.events?.failed(frame.op, error);
      return;
    }
    this.#requests++;
    this.#handle(frame).then(
      (result) => this.#send({ op: 'ok', id: frame.id, ...(result === undefined ? {} : { result }) }),
      (err) => {
        const error = errorToWire(err);
        this.#send({ op: 'error', id: frame.id, error });
        this.#o.events?.failed(frame.op, error, err);
      },
    ).finally(() => this.#requests--);
  }

  async #hello(v: number, token: string | undefined, client: unknown, tags: Record<string, string> | undefined): Promise<void> {
    if (this.#welcomed) return void this.#send({ op: 'error', error: { code: 'INVALID_ARGUMENT', message: 'hello was already sent' } });
    if (v !== PROTOCOL_VERSION) {
      const error = { code: 'UNSUPPORTED_VERSION', message: `this broker speaks protocol version ${PROTOCOL_VERSION}, not ${v}` };
      this.#send({ op: 'error', error });
      this.#o.events?.failed('hello', error);
      return void this.#ws.close(CLOSE.unsupportedVersion, 'unsupported protocol version');
    }
    if (token !== undefined || this.#access === null) {
      try {
        this.#access = await this.#o.authenticate(token === undefined ? undefined : `Bearer ${token}`);
      } catch (err) {
        this.#send({ op: 'error', error: errorToWire(err) });
        this.#o.events?.authFailed(err, token);
        return void this.#ws.close(CLOSE.unauthorized, 'unauthorized');
      }
    }
    this.#welcomed = true;
    this.#client = typeof client === 'string' ? client.slice(0, 200) : '';
    this.#tags = tags ?? {}; // checked with the frame
    this.#o.events?.welcomed(client, this.#access!);
    this.#send({ op: 'welcome', v: PROTOCOL_VERSION, node: this.#o.node, heartbeatMs: this.#o.heartbeatMs, limits: this.#o.limits });
  }

  async #handle(frame: Exclude<ClientFrame, { op: 'hello' | 'credit' }>): Promise<unknown> {
    const spool = this.#o.spool;
    const access = this.#access!;
    switch (frame.op) {
      case 'ping':
        return undefined;
      case 'publish': {
        authorize(access, OPERATION.addJobs!.action as Action, frame.queue);
        const jobs = frame.jobs as unknown as Record<string, unknown>[];
        // A full bounded queue holds the add up to the wait the client asked for (its queueFullWaitMs).
        const waitMs = frame.waitMs ?? 0;
        if (frame.atomic) {
          const stored = await spool.addWaiting(frame.queue, jobs.map(toAddItem), waitMs);
          return frame.confirm === 'ids' ? compactConfirm(stored) : { jobs: stored.map(withoutPayload) };
        }
        // Each job succeeds or fails alone, a field the wire does not carry included.
        const results = await Promise.all(jobs.map((job) => settle(Promise.resolve(job).then(toAddItem).then(async (item) => (await spool.addWaiting(frame.queue, [item], waitMs))[0]!).then(withoutPayload))));
        return { results };
      }
      case 'ack':
        return this.#leaseOp(frame.leases, (l) => spool.ack(lease(l), l.result), true);
      case 'nack':
        return this.#leaseOp(frame.leases, (l) => spool.nack(lease(l), l.error ?? 'failed', { unrecoverable: l.unrecoverable === true }), true);
      case 'release':
        return this.#leaseOp(frame.leases, (l) => spool.release(lease(l)), true);
      case 'extend':
        return this.#leaseOp(frame.leases, (l) => spool.extend(lease(l), l.leaseMs), false);
      case 'subscribe':
        return this.#subscribe(frame);
      case 'unsubscribe': {
        this.#subs.get(frame.sub)?.sub.close();
        this.#subs.delete(frame.sub);
        return undefined;
      }
      case 'call':
        return runCall(spool, access, frame.method, frame.params, NEVER);
      case 'watch':
        return this.#watch();
      case 'unwatch':
        this.#unwatch();
        return undefined;
    }
  }

  /**
   * Answers with the overview now and pushes it once a second after that. The overview is the
   * `overview` operation's (the queues this token may read); the broker aggregates it at most
   * once a second for every watcher together, so a page costs one frame a second, not a query.
   */
  async #watch(): Promise<unknown> {
    const now = await runCall(this.#o.spool, this.#access!, 'overview', {}, NEVER);
    if (!this.#watching && !this.#closed) {
      let pushing = false;
      this.#watching = setInterval(() => {
        if (pushing) return; // a slow store: skip a beat rather than pile up reads
        pushing = true;
        runCall(this.#o.spool, this.#access!, 'overview', {}, NEVER)
          .then((value) => this.#send({ op: 'overview', value: value as Overview }), () => {})
          .finally(() => (pushing = false));
      }, WATCH_INTERVAL_MS);
      this.#watching.unref();
    }
    return now;
  }

  #unwatch(): void {
    if (this.#watching) clearInterval(this.#watching);
    this.#watching = null;
  }

  /**
   * Runs one lease operation per item; an item the token may not consume, or whose lease
   * is stale, fails alone. Jobs delivered on this connection came through a subscription
   * the token was allowed; others (delivered before a reconnect) are checked in one read.
   */
  async #leaseOp<L extends LeaseItem>(leases: L[], run: (l: L) => Promise<unknown>, settles: boolean): Promise<{ results: ItemResult[] }> {
    const denied = await settleDenials(this.#o.spool.store, this.#access!, leases.filter((l) => !this.#delivered.has(leaseKey(l))).map((l) => l.jobId));
    const results = await Promise.all(leases.map((l) => {
      const refusal = denied.get(l.jobId);
      if (refusal) return settle(Promise.reject(refusal));
      const key = leaseKey(l);
      const op = run(l).then((value) => {
        if (settles) {
          this.#delivered.delete(key);
          this.#held.delete(key);
        } else if (typeof value === 'number' && (this.#held.has(key) || this.#held.size < this.#o.limits.inflightMax + this.#o.limits.batchMax)) {
          this.#held.set(key, { lease: lease(l), expiresAt: value }); // an extend: the lease's new end
        }
        return value;
      }, (err) => {
        // A stale lease is settled as far as this connection is concerned: it frees the slot.
        if (err instanceof SpoolError && err.code === 'STALE_LEASE') {
          if (settles) this.#delivered.delete(key);
          this.#held.delete(key);
        }
        throw err;
      });
      this.#running.add(op);
      void op.then(() => this.#running.delete(op), () => this.#running.delete(op));
      return settle(op);
    }));
    return { results };
  }

  #subscribe(frame: SubscribeFrame): undefined {
    const { sub: id, queue, credits } = frame;
    authorize(this.#access!, OPERATION.receive!.action as Action, queue);
    if (this.#subs.has(id)) throw new InvalidArgumentError('sub', `subscription ${id} is already open on this connection; pick another "sub"`);
    const remote: RemoteSub = {
      queue,
      granted: 0,
      sub: this.#o.spool.subscribe(queue, {
        deliver: (jobs) => {
          remote.granted = Math.max(0, remote.granted - jobs.length);
          for (const job of jobs) {
            const key = leaseKey({ jobId: job.id, token: job.leaseToken });
            this.#delivered.set(key, queue);
            if (job.leaseExpiresAt !== null) this.#held.set(key, { lease: { jobId: job.id, token: job.leaseToken }, expiresAt: job.leaseExpiresAt });
          }
          this.#send({ op: 'deliver', sub: id, jobs });
        },
        revoke: (l, reason) => {
          this.#held.delete(leaseKey(l));
          if (!this.#delivered.delete(leaseKey(l))) return;
          this.#send({ op: 'revoke', sub: id, jobId: l.jobId, token: l.token, error: errorToWire(reason) });
        },
        ...(this.#o.peer ? { owner: this.#owner(this.#o.peer) } : {}),
        // Checked and made canonical with the frame (frame-check.ts).
        ...(frame.tags ? { tags: frame.tags } : {}),
        ...(frame.capacity ? { capacity: frame.capacity } : {}),
      }),
    };
    this.#subs.set(id, remote);
    this.#credit(id, credits);
    return undefined;
  }

  /** This connection as the overview lists it among the consumers. */
  #owner(peer: { id: string; address: string }): ConsumerOwner {
    return { id: peer.id, client: this.#client, tags: this.#tags, address: peer.address, connectedAt: this.#connectedAt, lastSeenAt: () => this.#lastSeenAt };
  }

  /** Grants credits up to the connection's in-flight limit; more are not granted (the client learned the limit at welcome). */
  #credit(id: number, n: number): void {
    const remote = this.#subs.get(id);
    if (!remote || n === 0) return;
    let outstanding = this.#delivered.size;
    for (const r of this.#subs.values()) outstanding += r.granted;
    const grant = Math.min(n, Math.max(0, this.#o.limits.inflightMax - outstanding));
    if (grant === 0) return;
    remote.granted += grant;
    remote.sub.addCredits(grant);
  }

  #onClose(): void {
    this.#closed = true;
    this.#unwatch();
    for (const r of this.#subs.values()) r.sub.close();
    this.#subs.clear();
    const abandoned = this.#o.abandoned;
    if (!abandoned) return;
    // What the requests still running settle or extend is known once they end; then what is left is held by no one here.
    void Promise.allSettled([...this.#running]).then(() => {
      if (this.#held.size > 0) abandoned([...this.#held.values()]);
      this.#held.clear();
    });
  }
}

/** No WebSocket call waits on the caller (long polls are HTTP's): a signal that never aborts. */
const NEVER = new AbortController().signal;
const lease = (l: LeaseItem): Lease => ({ jobId: l.jobId, token: l.token });

function settle<V>(p: Promise<V>): Promise<ItemResult<V>> {
  return p.then(
    (value) => (value === undefined ? { ok: true as const } : { ok: true as const, value }),
    (err) => ({ ok: false as const, error: errorToWire(err) }),
  );
}
