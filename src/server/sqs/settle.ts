/**
 * DeleteMessage and ChangeMessageVisibility (and their batches): the `ack` and `extend` rows (and
 * the consumer's release, for a visibility of 0) with the lease in the receipt handle, so Spool's
 * lease check decides what a stale handle does; this file says it in SQS's terms.
 */
import type { SqsQueue } from './attributes.ts';
import { checkBatch, failure, type BatchFailure } from './batch.ts';
import type { SqsContext } from './context.ts';
import { parseReceiptHandle } from './envelope.ts';
import { SqsError } from './errors.ts';

type Outcome = { ok: boolean; error?: { code: string; message?: string; currentState?: string | null } };
type Entry = { Id: string; ReceiptHandle?: unknown; VisibilityTimeout?: unknown };

/**
 * What a refused delete means on SQS. A standard queue answers success to a delete with an old
 * receipt handle (the message stays if it was received again: SQS documents "the request
 * succeeds, but the message might not be deleted"), and to a second delete; a FIFO queue
 * refuses a handle whose visibility timeout has expired.
 */
function deleteOutcome(queue: SqsQueue, r: Outcome): SqsError | null {
  if (r.ok) return null;
  const code = r.error?.code;
  if (code === 'STALE_LEASE' || code === 'JOB_NOT_FOUND') {
    return queue.fifo && r.error?.currentState !== 'completed' && r.error?.currentState != null
      ? new SqsError('ReceiptHandleIsInvalid', 'The receipt handle has expired.')
      : null;
  }
  return spoolError(r);
}

/** What a refused visibility change means on SQS. */
function visibilityOutcome(handle: string, r: Outcome): SqsError | null {
  if (r.ok) return null;
  const code = r.error?.code;
  if (code === 'STALE_LEASE' || code === 'JOB_NOT_FOUND') {
    if (r.error?.currentState === 'active') {
      return new SqsError('InvalidParameterValue', `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`);
    }
    return new SqsError('MessageNotInflight', 'The message referred to is not in flight.');
  }
  return spoolError(r);
}

function spoolError(r: Outcome): SqsError {
  const code = r.error?.code;
  return new SqsError(code === 'FORBIDDEN' ? 'AccessDenied' : code === 'INVALID_ARGUMENT' ? 'InvalidParameterValue' : 'InternalFailure', r.error?.message ?? 'failed');
}

function visibilityOf(value: unknown): number {
  if (value === undefined || value === null) throw new SqsError('MissingParameter', 'The request must contain the parameter VisibilityTimeout.');
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 43_200) {
    throw new SqsError('InvalidParameterValue', `Value ${String(value)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`);
  }
  return value as number;
}

async function deleteMany(ctx: SqsContext, queue: SqsQueue, entries: readonly Entry[]): Promise<{ Successful: { Id: string }[]; Failed: BatchFailure[] }> {
  const Successful: { Id: string }[] = [];
  const Failed: BatchFailure[] = [];
  const leases: { id: string; jobId: string; token: number }[] = [];
  for (const e of entries) {
    try {
      leases.push({ id: e.Id, ...parseReceiptHandle(e.ReceiptHandle, queue.name) });
    } catch (err) {
      Failed.push(failure(e.Id, err));
    }
  }
  if (leases.length > 0) {
    const { results } = await ctx.call<{ results: Outcome[] }>('ack', { leases: leases.map((l) => ({ jobId: l.jobId, token: l.token })) });
    leases.forEach((l, i) => {
      const err = deleteOutcome(queue, results[i]!);
      if (err) Failed.push(failure(l.id, err));
      else Successful.push({ Id: l.id });
    });
  }
  return { Successful, Failed };
}

async function changeMany(ctx: SqsContext, queue: SqsQueue, entries: readonly Entry[]): Promise<{ Successful: { Id: string }[]; Failed: BatchFailure[] }> {
  const Successful: { Id: string }[] = [];
  const Failed: BatchFailure[] = [];
  const extend: { id: string; handle: string; jobId: string; token: number; leaseMs: number }[] = [];
  const release: typeof extend = [];
  for (const e of entries) {
    try {
      const lease = parseReceiptHandle(e.ReceiptHandle, queue.name);
      const seconds = visibilityOf(e.VisibilityTimeout);
      (seconds === 0 ? release : extend).push({ id: e.Id, handle: String(e.ReceiptHandle), ...lease, leaseMs: seconds * 1000 });
    } catch (err) {
      Failed.push(failure(e.Id, err));
    }
  }
  const settle = (items: typeof extend, results: Outcome[]) => items.forEach((l, i) => {
    const err = visibilityOutcome(l.handle, results[i]!);
    if (err) Failed.push(failure(l.id, err));
    else Successful.push({ Id: l.id });
  });
  if (extend.length > 0) {
    settle(extend, (await ctx.call<{ results: Outcome[] }>('extend', { leases: extend.map((l) => ({ jobId: l.jobId, token: l.token, leaseMs: l.leaseMs })) })).results);
  }
  if (release.length > 0) settle(release, (await ctx.release(release.map((l) => ({ jobId: l.jobId, token: l.token })))).results as Outcome[]);
  return { Successful, Failed };
}

/** A single action: the batch of one, its failure thrown as the request's error. */
async function single(run: () => Promise<{ Failed: BatchFailure[] }>, rethrow: (f: BatchFailure) => SqsError): Promise<Record<string, never>> {
  const { Failed } = await run();
  if (Failed.length > 0) throw rethrow(Failed[0]!);
  return {};
}

const asError = (f: BatchFailure): SqsError => new SqsError(f.Code as never, f.Message);

export async function deleteMessage(ctx: SqsContext, input: { QueueUrl?: unknown; ReceiptHandle?: unknown }): Promise<Record<string, never>> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  if (input.ReceiptHandle === undefined) throw new SqsError('MissingParameter', 'The request must contain the parameter ReceiptHandle.');
  return single(() => deleteMany(ctx, queue, [{ Id: '1', ReceiptHandle: input.ReceiptHandle }]), asError);
}

export async function deleteMessageBatch(ctx: SqsContext, input: { QueueUrl?: unknown; Entries?: unknown }): Promise<unknown> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  return deleteMany(ctx, queue, checkBatch<Entry>(input.Entries));
}

export async function changeMessageVisibility(ctx: SqsContext, input: { QueueUrl?: unknown; ReceiptHandle?: unknown; VisibilityTimeout?: unknown }): Promise<Record<string, never>> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  if (input.ReceiptHandle === undefined) throw new SqsError('MissingParameter', 'The request must contain the parameter ReceiptHandle.');
  return single(() => changeMany(ctx, queue, [{ Id: '1', ReceiptHandle: input.ReceiptHandle, VisibilityTimeout: input.VisibilityTimeout }]), asError);
}

export async function changeMessageVisibilityBatch(ctx: SqsContext, input: { QueueUrl?: unknown; Entries?: unknown }): Promise<unknown> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  return changeMany(ctx, queue, checkBatch<Entry>(input.Entries));
}
