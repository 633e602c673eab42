/**
 * The one table of Spool's operations. For each: its name, what it needs (scope), its input
 * and output schemas, the call it makes on a {@link SpoolClient}, its HTTP route and its
 * WebSocket method. The HTTP routes, the WebSocket calls, the permission checks, the
 * auth-matrix test and docs/openapi.json are all derived from it: adding an operation is a
 * row (in operations/, by subject: jobs, queues, leases, management), a method on the engine
 * and the client, and a test. The shared row helpers are in operation-kit.ts.
 */
import type { Job } from '../core/job.ts';
import type { AddItem, SpoolClient } from './contract.ts';
import { ALERT_OPERATIONS } from './operations/alerts.ts';
import { JOB_OPERATIONS } from './operations/jobs.ts';
import { LEASE_OPERATIONS } from './operations/leases.ts';
import { MANAGEMENT_OPERATIONS } from './operations/management.ts';
import { QUEUE_OPERATIONS } from './operations/queues.ts';
import { SCHEDULE_OPERATIONS } from './operations/schedules.ts';
import { TOPIC_OPERATIONS } from './operations/topics.ts';
import { FLOW_OPERATIONS } from './operations/flows.ts';
import type { PublishOptions, Published } from '../core/publish.ts';
import type * as S from './schemas.ts';

/**
 * What a request wants to do. `publish`, `consume` and `admin` are granted by scopes of the
 * same name; `read` (look at a job, a queue's settings, stats or jobs) by `publish` or
 * `consume` on that queue, or by `admin`.
 */
export type Action = 'publish' | 'consume' | 'admin' | 'read';

/** Who is asking: what they may do. */
export interface Access {
  can(action: Action, queue?: string): boolean;
}

/** What an operation runs against: the public contract, plus a pull claim for HTTP receive. */
export interface OperationHost extends SpoolClient {
  /** Leases up to `limit` ready jobs now. */
  claim(queue: string, limit?: number, options?: { tags?: readonly string[] }): Promise<Job[]>;
  /**
   * Adds as `add` (one item) or `addMany` (atomic) do, waiting at most `waitMs` for room in a full
   * bounded queue (0: QueueFullError at once). The HTTP route passes 0; a WebSocket publish the
   * wait its client asked for.
   */
  addWaiting<P>(queue: string, items: readonly AddItem<P>[], waitMs: number): Promise<Job<P>[]>;
  /**
   * Publishes as `publish` does, calling `authorize` with the queues the topic routes to before
   * anything is written, and waiting at most `waitMs` for room in a full bounded queue.
   */
  publishChecked<P>(topic: string, payload: P, options: PublishOptions | undefined, waitMs: number, authorize: (queues: readonly string[]) => void): Promise<Published<P>>;
}

/** What the transport gives an operation besides its input. */
export interface OperationContext {
  readonly access: Access;
  /** Ends a long poll when the caller goes away. */
  readonly signal: AbortSignal;
  /** @throws ForbiddenError unless the caller may do `action` on `queue`. */
  authorize(action: Action, queue?: string): void;
  /** For lease batches: the error for each job id whose queue the caller may not consume from. */
  settleDenials(jobIds: readonly string[]): Promise<ReadonlyMap<string, Error>>;
}

/**
 * Where the queue a permission is checked on comes from: the input's `queue`, no queue
 * (admin actions), or the operation checks it itself (the job's queue once it is read;
 * each item of a batch; a listing filtered to what the caller may read).
 */
export type QueueSource = 'input' | 'none' | 'self';

/** An HTTP binding of an operation. */
export interface HttpBinding {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** OpenAPI-style path: `{name}` segments are input fields. */
  path: string;
  /** Success status. Default 200. */
  status?: number;
  /** Input fields read from the query string (their schema's type says how to read them). */
  query?: readonly string[];
  /** The whole body becomes this input field (e.g. a queue's settings); otherwise the body's fields are input fields. */
  bodyAs?: string;
  /** Whether a body is read at all (GET and DELETE take none). */
  body?: boolean;
  /** Shapes the operation's output for this route, with its schema. */
  reply?: { map: (output: unknown) => unknown; schema: S.Schema };
  /** The status for this output when it is not `status` (readiness: 503 when not ready). */
  statusOf?: (output: any) => number;
  /**
   * Input the request's headers give where its body gives none (an add's W3C trace context
   * from `traceparent`/`tracestate`, as HTTP instrumentation sends them).
   */
  fromHeaders?: (headers: Readonly<Record<string, string | string[] | undefined>>, input: Record<string, unknown>) => Record<string, unknown>;
  /** Request headers `fromHeaders` reads that the OpenAPI document lists as parameters. */
  headers?: readonly { name: string; description: string; schema: S.Schema }[];
  /** OpenAPI links from this response to other operations (e.g. receive → ack). */
  links?: Record<string, { operationId: string; description: string; requestBody?: unknown }>;
}

export interface Operation<I = any, O = any> {
  /** Stable name: the OpenAPI operationId and the key the clients use. */
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  /** `public` is served without a token (probes, the API description). */
  readonly action: Action | 'public';
  readonly queue: QueueSource;
  /** JSON Schema of the input: unknown fields are refused on every transport. */
  readonly input: S.Schema;
  readonly output: S.Schema;
  readonly http: HttpBinding;
  /** The WebSocket `call` method, or the frame that carries it (described in docs/protocol.md). */
  readonly ws: { call: string } | { frame: string } | null;
  /** Error codes the operation answers with besides the common ones (documented in the OpenAPI responses). */
  readonly errors?: readonly string[];
  /** An input field that is a value of its own (a queue's settings): errors inside it are named relative to it, as the engine names them. */
  readonly inputRoot?: string;
  /**
   * The engine's own check of the input, run when the schema refuses it, so the caller reads
   * the same words from a broker as from an embedded Spool. Throws; returning means it found nothing.
   */
  readonly explain?: (input: any) => void;
  /** The rule to state when the input breaks a combination the schema forbids (oneOf, not). */
  readonly inputRule?: string;
  run(host: OperationHost, input: I, ctx: OperationContext): Promise<O>;
}

/** Every operation, in the order the API description lists them (the rows live in operations/, by subject). */
export const OPERATIONS = [
  ...JOB_OPERATIONS,
  ...QUEUE_OPERATIONS,
  ...LEASE_OPERATIONS,
  ...MANAGEMENT_OPERATIONS,
  ...ALERT_OPERATIONS,
  ...SCHEDULE_OPERATIONS,
  ...TOPIC_OPERATIONS,
  ...FLOW_OPERATIONS,
] as const satisfies readonly Operation[];

export type OperationName = (typeof OPERATIONS)[number]['name'];

/** The operations by name. */
export const OPERATION: Readonly<Record<OperationName, Operation>> = Object.fromEntries(OPERATIONS.map((o) => [o.name, o])) as never;

/** The operations a WebSocket `call` frame may name, by method. */
export const WS_CALLS: ReadonlyMap<string, Operation> = new Map(
  OPERATIONS.flatMap((o) => (o.ws && 'call' in o.ws ? [[o.ws.call, o as Operation] as const] : [])),
);
