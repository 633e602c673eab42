/** SendMessage and SendMessageBatch: each message checked as SQS checks it, then added through the `addJobs` row. */
import { createHash } from 'node:crypto';
import type { AddItem } from '../../api/contract.ts';
import type { Job } from '../../core/job.ts';
import type { SqsQueue } from './attributes.ts';
import { checkBatch, failure, type BatchFailure } from './batch.ts';
import type { SqsContext } from './context.ts';
import { messageIdOf, sequenceNumberOf, wrap, type Envelope } from './envelope.ts';
import { SqsError } from './errors.ts';
import { md5Hex, md5OfAttributes, type MessageAttributeValue } from './md5.ts';

/** SQS's deduplication window: a MessageDeduplicationId seen within it adds nothing. */
export const DEDUP_WINDOW_MS = 5 * 60_000;
/** Most message attributes on one message, as on SQS. */
const ATTRIBUTES_MAX = 10;
// The characters SQS allows in a body or an attribute value (XML's): #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF.
const BAD_CHAR_RE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export interface SendInput {
  MessageBody?: unknown;
  DelaySeconds?: unknown;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  MessageSystemAttributes?: Record<string, MessageAttributeValue>;
  MessageDeduplicationId?: unknown;
  MessageGroupId?: unknown;
}

interface Prepared {
  item: AddItem;
  md5Body: string;
  md5Attributes: string | null;
  md5System: string | null;
}

function checkAttributes(attributes: unknown, system: boolean): { attrs: Record<string, MessageAttributeValue> | undefined; bytes: number } {
  if (attributes === undefined || attributes === null) return { attrs: undefined, bytes: 0 };
  if (typeof attributes !== 'object' || Array.isArray(attributes)) throw new SqsError('InvalidParameterValue', 'MessageAttributes must be a map of name to value.');
  const entries = Object.entries(attributes as Record<string, MessageAttributeValue>);
  if (entries.length > ATTRIBUTES_MAX) throw new SqsError('InvalidParameterValue', `Number of message attributes [${entries.length}] exceeds the allowed maximum [${ATTRIBUTES_MAX}].`);
  let bytes = 0;
  for (const [name, a] of entries) {
    if (system ? name !== 'AWSTraceHeader' : (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || /^(aws\.|amazon\.)/i.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..'))) {
      throw new SqsError('InvalidParameterValue', system ? `Message system attribute name '${name}' is invalid: only AWSTraceHeader is supported.` : `Message attribute name '${name}' is invalid.`);
    }
    const type = a?.DataType;
    if (typeof type !== 'string' || !/^(String|Number|Binary)(\.[A-Za-z0-9_.-]{1,245})?$/.test(type)) {
      throw new SqsError('InvalidParameterValue', `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    const binary = type.startsWith('Binary');
    const value = binary ? a.BinaryValue : a.StringValue;
    if (typeof value !== 'string' || value === '') throw new SqsError('InvalidParameterValue', `The message attribute '${name}' must contain a non-empty message attribute value for message attribute type '${type}'.`);
    if (!binary && BAD_CHAR_RE.test(value)) throw new SqsError('InvalidParameterValue', `The message attribute '${name}' contains characters outside the allowed set.`);
    if (type.startsWith('Number') && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) throw new SqsError('InvalidParameterValue', `The message attribute '${name}' with type 'Number' must use a valid number value.`);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(type) + (binary ? Buffer.from(value, 'base64').length : Buffer.byteLength(value));
  }
  return { attrs: Object.fromEntries(entries.map(([n, a]) => [n, { DataType: a.DataType, ...(a.DataType.startsWith('Binary') ? { BinaryValue: a.BinaryValue! } : { StringValue: a.StringValue! }) }])), bytes };
}

/** One message as an add item, with its digests. @throws SqsError as SQS would refuse the message */
export function prepare(queue: SqsQueue, m: SendInput, sender: string | null): Prepared {
  const body = m.MessageBody;
  if (body === undefined || body === null) throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
  if (typeof body !== 'string' || body.length === 0) throw new SqsError('InvalidParameterValue', 'The request must contain a non-empty message body.');
  if (BAD_CHAR_RE.test(body)) throw new SqsError('InvalidMessageContents', 'Invalid characters found in the message body: SQS allows #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.');
  const { attrs, bytes } = checkAttributes(m.MessageAttributes, false);
  const system = checkAttributes(m.MessageSystemAttributes, true).attrs;
  const size = Buffer.byteLength(body) + bytes;
  if (size > queue.maximumMessageSize) {
    throw new SqsError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${queue.maximumMessageSize} bytes.`);
  }
  let delaySeconds = queue.delaySeconds;
  if (m.DelaySeconds !== undefined && m.DelaySeconds !== null) {
    if (queue.fifo) throw new SqsError('InvalidParameterValue', 'Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type (FIFO queues take the queue\'s DelaySeconds only).');
    if (!Number.isInteger(m.DelaySeconds) || (m.DelaySeconds as number) < 0 || (m.DelaySeconds as number) > 900) {
      throw new SqsError('InvalidParameterValue', `Value ${String(m.DelaySeconds)} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`);
    }
    delaySeconds = m.DelaySeconds as number;
  }
  const envelope: Envelope = { body, ...(attrs ? { attributes: attrs } : {}), ...(system ? { traceHeader: system.AWSTraceHeader!.StringValue! } : {}) };
  const item: AddItem = { payload: null, ttlMs: queue.retentionSeconds * 1000, ...(delaySeconds > 0 ? { delayMs: delaySeconds * 1000 } : {}) };
  const group = m.MessageGroupId;
  if (group !== undefined && group !== null) {
    if (typeof group !== 'string' || !/^[!-~]{1,128}$/.test(group)) throw new SqsError('InvalidParameterValue', 'Value for parameter MessageGroupId is invalid. Reason: 1 to 128 characters from !"#$%&\'()*+,-./0-9:;<=>?@A-Z[\\]^_`a-z{|}~.');
    item.group = group;
  } else if (queue.fifo) {
    throw new SqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
  }
  let dedup = m.MessageDeduplicationId;
  if (dedup !== undefined && dedup !== null) {
    if (!queue.fifo) throw new SqsError('InvalidParameterValue', 'Value for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.');
    if (typeof dedup !== 'string' || !/^[!-~]{1,128}$/.test(dedup)) throw new SqsError('InvalidParameterValue', 'Value for parameter MessageDeduplicationId is invalid. Reason: 1 to 128 characters from !"#$%&\'()*+,-./0-9:;<=>?@A-Z[\\]^_`a-z{|}~.');
  } else if (queue.fifo) {
    if (!queue.contentDedup) throw new SqsError('InvalidParameterValue', 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
    dedup = createHash('sha256').update(body).digest('hex');
  }
  if (typeof dedup === 'string') {
    item.uniqueKey = dedup;
    item.uniqueWindowMs = DEDUP_WINDOW_MS;
  }
  item.payload = wrap({ ...envelope, ...(sender ? { sender } : {}), ...(typeof dedup === 'string' ? { dedupId: dedup } : {}) });
  return { item, md5Body: md5Hex(body), md5Attributes: md5OfAttributes(attrs), md5System: md5OfAttributes(system) };
}

function resultOf(p: Prepared, job: Job, fifo: boolean): Record<string, unknown> {
  return {
    MessageId: messageIdOf(job), MD5OfMessageBody: p.md5Body,
    ...(p.md5Attributes ? { MD5OfMessageAttributes: p.md5Attributes } : {}),
    ...(p.md5System ? { MD5OfMessageSystemAttributes: p.md5System } : {}),
    ...(fifo ? { SequenceNumber: sequenceNumberOf(job) } : {}),
  };
}

async function add(ctx: SqsContext, queue: SqsQueue, items: AddItem[]): Promise<Job[]> {
  const out = await ctx.call<{ jobs: Job[] }>('addJobs', { queue: queue.name, jobs: items });
  return out.jobs;
}

export async function sendMessage(ctx: SqsContext, input: SendInput & { QueueUrl?: unknown }): Promise<Record<string, unknown>> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  const p = prepare(queue, input, ctx.principal.tokenId);
  const [job] = await add(ctx, queue, [p.item]);
  return resultOf(p, job!, queue.fifo);
}

/**
 * Every entry is checked on its own (a bad one fails alone, as on SQS); the good ones are added
 * in one atomic add, so a store failure fails them together.
 */
export async function sendMessageBatch(ctx: SqsContext, input: { QueueUrl?: unknown; Entries?: unknown }): Promise<{ Successful: unknown[]; Failed: BatchFailure[] }> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  const entries = checkBatch<SendInput & { Id?: unknown }>(input.Entries);
  const total = entries.reduce((n, e) => n + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody) : 0), 0);
  if (total > queue.maximumMessageSize) {
    throw new SqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${queue.maximumMessageSize} bytes. You have sent ${total} bytes.`);
  }
  const Failed: BatchFailure[] = [];
  const good: { id: string; p: Prepared }[] = [];
  for (const e of entries) {
    try {
      good.push({ id: e.Id, p: prepare(queue, e, ctx.principal.tokenId) });
    } catch (err) {
      Failed.push(failure(e.Id, err));
    }
  }
  const Successful: unknown[] = [];
  if (good.length > 0) {
    try {
      const jobs = await add(ctx, queue, good.map((g) => g.p.item));
      good.forEach((g, i) => Successful.push({ Id: g.id, ...resultOf(g.p, jobs[i]!, queue.fifo) }));
    } catch (err) {
      // A refusal of the whole batch (permission, a missing queue) is the request's error, not the entries'.
      const e = err as { code?: string };
      if (e.code === 'FORBIDDEN' || e.code === 'QUEUE_NOT_FOUND' || e.code === 'UNAUTHORIZED') throw err;
      for (const g of good) Failed.push(failure(g.id, err));
    }
  }
  return { Successful, Failed };
}
