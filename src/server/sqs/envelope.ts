/**
 * How an SQS message is a Spool job: its payload envelope, its message id, its receipt handle
 * (the job id and the lease token of this delivery) and its FIFO sequence number.
 */
import type { Job } from '../../core/job.ts';
import { isJobId } from '../../core/ids.ts';
import { SqsError } from './errors.ts';
import type { MessageAttributeValue } from './md5.ts';

/**
 * A message as a job's payload: `{ sqs: { body, attributes?, traceHeader?, sender?, dedupId?, id?, sentAt?, source? } }`.
 * `id` and `sentAt` are kept when a message moves to a dead-letter queue (the job there is a new
 * one, the message keeps its id and its sent time, as on SQS).
 */
export interface Envelope {
  body: string;
  attributes?: Record<string, MessageAttributeValue>;
  /** The AWSTraceHeader system attribute. */
  traceHeader?: string;
  id?: string;
  sentAt?: number;
  /** The id of the token that sent it (SenderId), when requests were signed. */
  sender?: string;
  /** A FIFO message's MessageDeduplicationId (given, or the body's SHA-256). */
  dedupId?: string;
  /** Where a message moved to a dead-letter queue came from (StartMessageMoveTask takes it back there). */
  source?: string;
}

export const wrap = (e: Envelope): { sqs: Envelope } => ({ sqs: e });

/**
 * The message a job is. A job added by a Spool client (a payload that is not an envelope) is a
 * message whose body is its payload: the text itself for a string, else its JSON.
 */
export function unwrap(job: Job): Envelope {
  const p = job.payload as { sqs?: unknown } | null;
  if (p !== null && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 1 && typeof p.sqs === 'object' && p.sqs !== null
    && typeof (p.sqs as Envelope).body === 'string') {
    return p.sqs as Envelope;
  }
  return { body: typeof job.payload === 'string' ? job.payload : JSON.stringify(job.payload) };
}

/** A message's id: the job's (a UUID, as SQS's are), or the one it had before it was moved. */
export const messageIdOf = (job: Job): string => unwrap(job).id ?? job.id;

/**
 * A receipt handle: the queue, the job id and the lease token of this delivery, in base64url.
 * Opaque to clients; a handle of an earlier delivery carries an older token, which Spool's
 * lease check (fencing) refuses.
 */
export function receiptHandleOf(job: Job): string {
  return Buffer.from(`1 ${job.leaseToken} ${job.id} ${job.queue}`, 'utf8').toString('base64url');
}

/** What a receipt handle says, for `queue`. @throws SqsError ReceiptHandleIsInvalid when it is not one of this queue's. */
export function parseReceiptHandle(handle: unknown, queue: string): { jobId: string; token: number } {
  if (typeof handle !== 'string' || handle.length === 0 || handle.length > 1024) throw invalidHandle(handle);
  const parts = Buffer.from(handle, 'base64url').toString('utf8').split(' ');
  if (parts.length !== 4 || parts[0] !== '1' || !/^[1-9]\d{0,15}$/.test(parts[1]!) || !isJobId(parts[2])) throw invalidHandle(handle);
  if (parts[3] !== queue) throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${String(handle).slice(0, 64)}" is not a valid receipt handle for this queue: it is one of queue ${parts[3]}`);
  return { jobId: parts[2]!, token: Number(parts[1]) };
}

const invalidHandle = (handle: unknown) => new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${String(handle).slice(0, 64)}" is not a valid receipt handle.`);

/** A FIFO message's sequence number: its job id (UUIDv7: time, then a counter) as a decimal number, so later adds have larger ones. */
export const sequenceNumberOf = (job: Job): string => BigInt(`0x${job.id.replaceAll('-', '')}`).toString();

/**
 * How many times the message was received: the job's counted attempts plus the deliveries given
 * back early (ChangeMessageVisibility to 0), which Spool does not count as attempts.
 */
export function receiveCountOf(job: Job): number {
  return job.attempt + job.history.filter((h) => h.outcome === 'released').length;
}
