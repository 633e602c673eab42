/**
 * The WebSocket protocol between brokers and clients, version 1. Every frame is one
 * JSON text message with an `op`. docs/protocol.md describes each frame; this file is
 * the machine-checked form of that page and is shared by the server and the client.
 *
 * A client sends `hello` first. Requests carry a client-chosen `id` and get exactly one
 * reply (`ok` or `error`) with that id; `credit` is the only frame without a reply.
 * The server pushes `deliver` and `revoke` for subscriptions.
 */
import type { Overview } from '../model/overview.ts';
import type { AddOptions } from '../core/add-options.ts';
import type { Job, JobState } from '../core/job.ts';
import { checkOptionKeys } from '../core/options.ts';

/** The protocol version this code speaks. A client asking for another is refused at `hello`. */
export const PROTOCOL_VERSION = 1;
/** WebSocket subprotocol naming the version, sent in `Sec-WebSocket-Protocol`. */
export const SUBPROTOCOL = `spool.v${PROTOCOL_VERSION}`;
/** The path brokers accept WebSocket upgrades on. */
export const WS_PATH = '/v1/ws';

/** Close codes the server uses (4000–4999 are the application's range). */
export const CLOSE = {
  /** The broker is shutting down: reconnect, to this or another broker. */
  goingAway: 1001,
  /** A frame over the frame size limit. */
  tooBig: 1009,
  unauthorized: 4401,
  /** The client speaks a protocol version the broker does not. */
  unsupportedVersion: 4400,
  /** No `hello` within the hello timeout, or no pong within two heartbeats. */
  timeout: 4408,
  /** The broker holds its maximum number of connections. */
  tooManyConnections: 4429,
} as const;

/** An error as it travels: a stable code, a message for people, and the fields of its class. */
export interface WireError {
  code: string;
  message: string;
  [detail: string]: unknown;
}

/**
 * The options of one job to publish: `add()`'s, with its payload; `runAt` as epoch ms (JSON has
 * no Date), and no `tx` (a caller's transaction never crosses the wire). The TypeScript client
 * sets a fresh `idempotencyKey` when the caller gives none. A `trace` left out is none (never
 * the broker's own context, which is not the producer's).
 */
export type PublishItem = Omit<AddOptions, 'runAt' | 'tx'> & { payload: unknown; runAt?: number };

/**
 * What the broker stored for a published job: a Job without its payload (the client has it);
 * for a duplicate (`duplicate: true`: the add's uniqueKey was held), the holding job whole, with its own payload.
 */
export type PublishedJob = Omit<Job, 'payload'> & { payload?: unknown };

export interface LeaseItem {
  jobId: string;
  token: number;
}

/** Read and management calls, sent as `call` frames: the WebSocket methods of the operations table (src/api/operations.ts). */
export type CallMethod = string;

// ---- client → server ------------------------------------------------------------------

export interface HelloFrame {
  op: 'hello';
  v: number;
  /** The API token, when it was not sent as an `Authorization` header on the upgrade. */
  token?: string;
  /** A name for logs and the dashboard. */
  client?: string;
  /** Tags for the dashboard and the overview's consumers, e.g. `{ "region": "eu-west-1" }` (at most 16; see core/tags.ts). */
  tags?: Record<string, string>;
}

/**
 * Adds jobs to one queue. `atomic: true` (an addMany) stores all or none and answers with
 * one error; otherwise each job succeeds or fails on its own (coalesced single adds).
 */
export interface PublishFrame {
  op: 'publish';
  id: number;
  queue: string;
  jobs: PublishItem[];
  atomic?: boolean;
  /**
   * With `atomic`: `ids` asks for the compact confirm (confirm.ts), `{first, others}`: the
   * first job whole, the others as their ids and what differs. Left out: `{jobs}`, every job.
   * A broker that predates it ignores the field and answers `{jobs}`; the client takes both.
   */
  confirm?: 'ids';
  /**
   * How long the broker may hold the add while a bounded queue is full (overflow `reject`),
   * waiting for room, before it answers QUEUE_FULL: the client's queueFullWaitMs. Absent: 0.
   */
  waitMs?: number;
}

export interface AckFrame {
  op: 'ack';
  id: number;
  leases: (LeaseItem & { result?: unknown })[];
}

export interface NackFrame {
  op: 'nack';
  id: number;
  leases: (LeaseItem & { error?: string; unrecoverable?: boolean })[];
}

export interface ExtendFrame {
  op: 'extend';
  id: number;
  leases: (LeaseItem & { leaseMs?: number })[];
}

export interface ReleaseFrame {
  op: 'release';
  id: number;
  leases: LeaseItem[];
}

/**
 * Opens a push subscription `sub` (a client-chosen number) with an initial credit. `tags`: the
 * worker's resource tags (WorkerOptions.tags; absent: none), so only jobs whose `requires` they
 * cover are pushed to it; `capacity`: how many jobs it runs at once (its concurrency), which the
 * broker deals by (least loaded first) and announces for the stats.
 */
export interface SubscribeFrame {
  op: 'subscribe';
  id: number;
  sub: number;
  queue: string;
  credits: number;
  tags?: string[];
  capacity?: number;
}

export interface UnsubscribeFrame {
  op: 'unsubscribe';
  id: number;
  sub: number;
}

/** Allows `n` more deliveries on `sub`. No reply. */
export interface CreditFrame {
  op: 'credit';
  sub: number;
  n: number;
}

export interface CallFrame {
  op: 'call';
  id: number;
  method: CallMethod;
  /** `queue` for queue calls, `jobId` for job calls, plus the method's own fields. */
  params: Record<string, unknown>;
}

export interface PingFrame {
  op: 'ping';
  id: number;
}

/** Asks for `overview` frames: the overview now, then at most one a second until `unwatch` (or the connection ends). */
export interface WatchFrame {
  op: 'watch';
  id: number;
}

export interface UnwatchFrame {
  op: 'unwatch';
  id: number;
}

export type ClientFrame =
  | HelloFrame | PublishFrame | AckFrame | NackFrame | ExtendFrame | ReleaseFrame
  | SubscribeFrame | UnsubscribeFrame | CreditFrame | CallFrame | PingFrame | WatchFrame | UnwatchFrame;

// ---- server → client ------------------------------------------------------------------

/** The broker's limits, so a well-behaved client never trips them. */
export interface SessionLimits {
  /** Largest frame the broker reads, in bytes. */
  frameMaxBytes: number;
  /** Most jobs in one publish frame, and most leases in one ack/nack/extend/release frame. */
  batchMax: number;
  /** Most requests of one connection being worked on at once; more are refused with TOO_MANY. */
  requestsInflightMax: number;
  /** Most jobs delivered to one connection and not yet settled (credits beyond it are not granted). */
  inflightMax: number;
}

export interface WelcomeFrame {
  op: 'welcome';
  v: number;
  /** This broker's node id (stable for its life), for logs. */
  node: string;
  /** The broker pings this often; a client that hears nothing for 2.5× this may reconnect. */
  heartbeatMs: number;
  limits: SessionLimits;
}

/** Per-item outcome in a batch reply: `ok` with the operation's value, or the item's error. */
export type ItemResult<V = unknown> = { ok: true; value?: V } | { ok: false; error: WireError };

export interface OkFrame {
  op: 'ok';
  id: number;
  result?: unknown;
}

/** A request failed as a whole; without `id`, a frame could not be read at all. */
export interface ErrorFrame {
  op: 'error';
  id?: number;
  error: WireError;
}

/** Leased jobs for subscription `sub`; the client owns them until it settles them or the lease runs out. */
export interface DeliverFrame {
  op: 'deliver';
  sub: number;
  jobs: Job[];
}

/** The lease on a delivered job is gone (cancelled, or expired and taken back): stop working on it. */
export interface RevokeFrame {
  op: 'revoke';
  sub: number;
  jobId: string;
  /** The token of the lease that ended: a later lease on the same job (redelivered here too) is not meant. */
  token: number;
  error: WireError;
}

/** The overview (what `GET /v1/overview` answers), pushed to a connection that sent `watch`. */
export interface OverviewFrame {
  op: 'overview';
  value: Overview;
}

export type ServerFrame = WelcomeFrame | OkFrame | ErrorFrame | DeliverFrame | RevokeFrame | OverviewFrame;

/** The per-item values of the batched lease operations. */
export interface LeaseValues {
  ack: undefined;
  nack: JobState;
  extend: number;
  release: undefined;
}

/** The fields a published job may carry over the wire: its payload and the add options (never `tx`, which only an in-process caller has). */
export const PUBLISH_FIELDS = ['payload', 'name', 'priority', 'delayMs', 'runAt', 'maxAttempts', 'timeoutMs', 'trace', 'group', 'idempotencyKey', 'ttlMs', 'cost', 'uniqueKey', 'uniqueWindowMs', 'concurrencyKey', 'requires'] as const;

/**
 * A published job as the engine's `addMany` item. A field the wire does not carry is refused,
 * naming the nearest valid one, instead of being dropped. A job without `trace` gets `trace: null`:
 * the producer had no span, and the engine must not take the context the broker happens to
 * run the frame in for the producer's (the engine checks a given one).
 * @throws InvalidArgumentError
 */
export function toAddItem(item: Record<string, unknown>): PublishItem {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return item as never; // the engine names what is wrong
  checkOptionKeys(item, PUBLISH_FIELDS, 'publish', 'field');
  return { ...item, trace: item.trace ?? null } as unknown as PublishItem;
}
