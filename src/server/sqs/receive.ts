/** ReceiveMessage: the `receive` row (its long poll), then the SQS view of each job leased. */
import type { Job } from '../../core/job.ts';
import type { SqsQueue } from './attributes.ts';
import type { SqsContext } from './context.ts';
import { messageIdOf, receiptHandleOf, receiveCountOf, sequenceNumberOf, unwrap } from './envelope.ts';
import { SqsError } from './errors.ts';
import { md5Hex, md5OfAttributes, type MessageAttributeValue } from './md5.ts';

const SYSTEM_ATTRIBUTES = ['All', 'SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'SequenceNumber',
  'MessageDeduplicationId', 'MessageGroupId', 'AWSTraceHeader', 'DeadLetterQueueSourceArn'];

export interface ReceiveInput {
  QueueUrl?: unknown;
  AttributeNames?: unknown;
  MessageSystemAttributeNames?: unknown;
  MessageAttributeNames?: unknown;
  MaxNumberOfMessages?: unknown;
  VisibilityTimeout?: unknown;
  WaitTimeSeconds?: unknown;
  ReceiveRequestAttemptId?: unknown;
}

function bounded(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new SqsError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`);
  }
  return value as number;
}

const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The message attributes asked for: `All` or `.*`, names, and prefixes such as `bar.*`. */
function pickMessageAttributes(all: Record<string, MessageAttributeValue> | undefined, wanted: string[]): Record<string, MessageAttributeValue> | undefined {
  if (!all || wanted.length === 0) return undefined;
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(all)) {
    if (wanted.some((w) => w === 'All' || w === '.*' || w === name || (w.endsWith('.*') && name.startsWith(w.slice(0, -1))))) out[name] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function systemAttributes(job: Job, queue: SqsQueue, wanted: string[], region: string): Record<string, string> | undefined {
  if (wanted.length === 0) return undefined;
  for (const w of wanted) if (!SYSTEM_ATTRIBUTES.includes(w)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${w}.`);
  const all = wanted.includes('All');
  const env = unwrap(job);
  const value: Record<string, string | undefined> = {
    SenderId: env.sender ? `SPOOL${env.sender.toUpperCase()}` : 'ANONYMOUS',
    SentTimestamp: String(env.sentAt ?? job.createdAt),
    ApproximateReceiveCount: String(receiveCountOf(job)),
    ApproximateFirstReceiveTimestamp: String(job.history[0]?.startedAt ?? job.updatedAt),
    SequenceNumber: queue.fifo ? sequenceNumberOf(job) : undefined,
    MessageDeduplicationId: queue.fifo ? env.dedupId : undefined,
    MessageGroupId: job.group ?? undefined,
    AWSTraceHeader: env.traceHeader,
    DeadLetterQueueSourceArn: env.source ? `arn:aws:sqs:${region}:000000000000:${env.source}` : undefined,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined && (all || wanted.includes(k))) out[k] = v;
  return out;
}

export async function receiveMessage(ctx: SqsContext, input: ReceiveInput): Promise<{ Messages?: unknown[] }> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  const max = bounded('MaxNumberOfMessages', input.MaxNumberOfMessages, 1, 10, 1);
  const wait = bounded('WaitTimeSeconds', input.WaitTimeSeconds, 0, 20, queue.waitSeconds);
  const visibility = input.VisibilityTimeout === undefined || input.VisibilityTimeout === null ? null : bounded('VisibilityTimeout', input.VisibilityTimeout, 0, 43_200, 0);
  const { jobs } = await ctx.call<{ jobs: Job[] }>('receive', { queue: queue.name, max, waitMs: wait * 1000 });
  if (jobs.length === 0) return {};
  let delivered = jobs;
  if (visibility === 0) {
    // Received and visible again at once: the deliveries are given back (still counted as receives).
    await ctx.release(jobs.map((j) => ({ jobId: j.id, token: j.leaseToken })));
  } else if (visibility !== null && visibility * 1000 !== queue.config.visibilityTimeoutMs) {
    const { results } = await ctx.call<{ results: { ok: boolean }[] }>('extend', { leases: jobs.map((j) => ({ jobId: j.id, token: j.leaseToken, leaseMs: visibility * 1000 })) });
    // A lease lost in between (deleted with its queue) is not handed out.
    delivered = jobs.filter((_, i) => results[i]!.ok);
  }
  const wantedSystem = [...names(input.AttributeNames), ...names(input.MessageSystemAttributeNames)];
  const wantedAttributes = names(input.MessageAttributeNames);
  return {
    Messages: delivered.map((job) => {
      const env = unwrap(job);
      const attrs = pickMessageAttributes(env.attributes, wantedAttributes);
      const sys = systemAttributes(job, queue, wantedSystem, ctx.region);
      const md5Attrs = md5OfAttributes(attrs);
      return {
        MessageId: messageIdOf(job), ReceiptHandle: receiptHandleOf(job), MD5OfBody: md5Hex(env.body), Body: env.body,
        ...(sys ? { Attributes: sys } : {}),
        ...(attrs ? { MessageAttributes: attrs, MD5OfMessageAttributes: md5Attrs } : {}),
      };
    }),
  };
}
