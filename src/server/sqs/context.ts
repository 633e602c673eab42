/**
 * What an SQS action runs with: the operation table (every queue and message change is a row
 * of it, run with the row's own input check and permission check, as the HTTP routes run it),
 * who is asking, and where the client reached this endpoint (QueueUrls point back there).
 */
import { checkInput } from '../../api/check-input.ts';
import { OPERATION, type OperationContext, type OperationName } from '../../api/operations.ts';
import { settleEach } from '../../api/operation-kit.ts';
import type { Lease } from '../../core/job.ts';
import { authorize, settleDenials } from '../auth/permissions.ts';
import type { Principal } from '../auth/scopes.ts';
import type { BrokerHost } from '../host.ts';
import { sqsQueueOf, type SqsQueue } from './attributes.ts';
import { SqsError } from './errors.ts';

/** SQS queue names: 1–80 letters, digits, '-' or '_', and `.fifo` at the end for a FIFO queue. */
const SQS_NAME_RE = /^[A-Za-z0-9_-]{1,80}$/;

/** Checks a queue name as SQS does. @throws SqsError InvalidParameterValue */
export function checkSqsName(name: unknown): string {
  const base = typeof name === 'string' && name.endsWith('.fifo') ? name.slice(0, -5) : name;
  // Spool's queue names start with a letter or digit: the one rule beyond SQS's.
  if (typeof name !== 'string' || typeof base !== 'string' || !SQS_NAME_RE.test(base) || !/^[A-Za-z0-9]/.test(base) || name.length > 80) {
    throw new SqsError('InvalidParameterValue', `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length (got ${JSON.stringify(String(name).slice(0, 90))}); Spool's also start with a letter or digit.`);
  }
  return name;
}

/** A short-lived cache of queues' settings, shared by the requests of one endpoint. */
export class QueueCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { queue: SqsQueue; until: number }>();
  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }
  get(name: string, now: number): SqsQueue | undefined {
    const e = this.#entries.get(name);
    return e && now < e.until ? e.queue : undefined;
  }
  set(queue: SqsQueue, now: number): void {
    if (this.#ttlMs === 0) return;
    if (this.#entries.size >= 10_000) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(queue.name, { queue, until: now + this.#ttlMs });
  }
  forget(name: string): void {
    this.#entries.delete(name);
  }
}

export class SqsContext {
  readonly host: BrokerHost;
  readonly principal: Principal;
  readonly region: string;
  /** `http(s)://host:port` as the client reached it. */
  readonly origin: string;
  readonly cache: QueueCache;
  readonly #op: OperationContext;

  constructor(host: BrokerHost, principal: Principal, signal: AbortSignal, region: string, origin: string, cache: QueueCache) {
    this.host = host;
    this.principal = principal;
    this.region = region;
    this.origin = origin;
    this.cache = cache;
    this.#op = {
      access: principal, signal,
      authorize: (action, queue) => authorize(principal, action, queue),
      settleDenials: (ids) => settleDenials(host.store, principal, ids),
    };
  }

  /** Runs a row of the operation table as its HTTP route does: input check, permission check, run. */
  async call<O = unknown>(name: OperationName, input: Record<string, unknown>): Promise<O> {
    const op = OPERATION[name]!;
    checkInput(op, input);
    if (op.queue === 'input') this.#op.authorize(op.action as 'read', input.queue as string);
    if (op.queue === 'none') this.#op.authorize(op.action as 'read');
    return op.run(this.host, input, this.#op) as Promise<O>;
  }

  /** Gives leases back early (ChangeMessageVisibility to 0): the lease batch's permission check, then the consumer's release. */
  release(leases: readonly Lease[]): Promise<{ results: { ok: boolean; error?: { code: string; currentState?: string | null } }[] }> {
    return settleEach(leases, this.#op, (l) => this.host.release(l)) as never;
  }

  /** The queue a QueueUrl names (its last path segment), as SQS sees it. @throws SqsError QueueDoesNotExist, AccessDenied */
  async queueOfUrl(url: unknown): Promise<SqsQueue> {
    if (typeof url !== 'string' || url === '') throw new SqsError('MissingParameter', 'The request must contain the parameter QueueUrl.');
    const name = url.slice(url.lastIndexOf('/') + 1);
    return this.queue(name);
  }

  /** A queue's settings (cached for a second), after checking the caller may read it. */
  async queue(name: string): Promise<SqsQueue> {
    checkSqsName(name);
    this.#op.authorize('read', name);
    const now = this.host.clock.now();
    const cached = this.cache.get(name, now);
    if (cached) return cached;
    const { config } = await this.call<{ config: SqsQueue['config'] }>('getQueue', { queue: name });
    const queue = sqsQueueOf(name, config);
    this.cache.set(queue, now);
    return queue;
  }

  urlOf(queue: string): string {
    return `${this.origin}/000000000000/${queue}`;
  }
}
