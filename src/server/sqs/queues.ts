/** The queue actions: each a row (or a few) of the operation table, with SQS's names and checks. */
import type { QueueStats } from '../../core/job.ts';
import type { QueueConfig } from '../../core/queue-config.ts';
import { ATTRIBUTE_LABEL_PREFIX, attributesOf, pickAttributes, sameAttributes, settingsOf, tagsOf, TAGS_MAX, type SqsQueue } from './attributes.ts';
import { checkSqsName, type SqsContext } from './context.ts';
import { SqsError } from './errors.ts';

type Input = Record<string, unknown>;

function stringMap(value: unknown, name: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new SqsError('InvalidParameterValue', `${name} must be a map of strings.`);
  }
  return value as Record<string, string>;
}

async function configure(ctx: SqsContext, queue: string, config: unknown): Promise<QueueConfig> {
  const out = await ctx.call<{ config: QueueConfig }>('configureQueue', { queue, config });
  ctx.cache.forget(queue);
  return out.config;
}

/** Whether the queue exists, as the caller may see it. */
async function existing(ctx: SqsContext, name: string): Promise<SqsQueue | null> {
  try {
    return await ctx.queue(name);
  } catch (err) {
    if ((err as { code?: string }).code === 'QUEUE_NOT_FOUND') return null;
    throw err;
  }
}

function checkTags(tags: Record<string, string>): void {
  for (const [k, v] of Object.entries(tags)) {
    if (k.startsWith(ATTRIBUTE_LABEL_PREFIX)) throw new SqsError('InvalidParameterValue', `Tag keys may not start with ${ATTRIBUTE_LABEL_PREFIX}: Spool keeps the queue's SQS attributes under it (got ${JSON.stringify(k)}).`);
    if (k.length < 1 || k.length > 128 || v.length > 256) throw new SqsError('InvalidParameterValue', 'A tag key is 1 to 128 characters and a tag value at most 256.');
  }
}

function withTags(config: QueueConfig, add: Record<string, string>, remove: readonly string[]): Record<string, string> {
  const labels = { ...(config.labels ?? {}) };
  for (const k of remove) if (!k.startsWith(ATTRIBUTE_LABEL_PREFIX)) delete labels[k];
  Object.assign(labels, add);
  if (Object.keys(tagsOf({ ...config, labels })).length > TAGS_MAX) throw new SqsError('InvalidParameterValue', `Too many tags: a queue has at most ${TAGS_MAX}.`);
  return labels;
}

export async function createQueue(ctx: SqsContext, input: Input): Promise<{ QueueUrl: string }> {
  if (input.QueueName === undefined) throw new SqsError('MissingParameter', 'The request must contain the parameter QueueName.');
  const name = checkSqsName(input.QueueName);
  const attributes = stringMap(input.Attributes, 'Attributes');
  const tags = stringMap(input.tags, 'tags');
  checkTags(tags);
  const now = ctx.host.clock.now();
  const found = await existing(ctx, name);
  if (found) {
    if (!sameAttributes(found, attributes, ctx.region)) throw new SqsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute(s) ${Object.keys(attributes).join(', ')}`);
    return { QueueUrl: ctx.urlOf(name) };
  }
  const input2 = settingsOf(name, attributes, null, now);
  input2.labels = { ...input2.labels, ...tags };
  await configure(ctx, name, input2);
  return { QueueUrl: ctx.urlOf(name) };
}

export async function getQueueUrl(ctx: SqsContext, input: Input): Promise<{ QueueUrl: string }> {
  if (input.QueueName === undefined) throw new SqsError('MissingParameter', 'The request must contain the parameter QueueName.');
  const queue = await ctx.queue(checkSqsName(input.QueueName));
  return { QueueUrl: ctx.urlOf(queue.name) };
}

/** The queues the caller may read whose names are SQS queue names, in name order. */
async function sqsQueueNames(ctx: SqsContext): Promise<string[]> {
  const stats = await ctx.call<QueueStats[]>('listQueues', {});
  return stats.map((s) => s.queue).filter((q) => {
    try {
      checkSqsName(q);
      return true;
    } catch {
      return false;
    }
  }).sort();
}

function page(names: string[], input: Input): { names: string[]; next: string | undefined } {
  const max = input.MaxResults === undefined ? 1000 : Number(input.MaxResults);
  if (!Number.isInteger(max) || max < 1 || max > 1000) throw new SqsError('InvalidParameterValue', 'Value for parameter MaxResults is invalid. Reason: Must be between 1 and 1000.');
  const after = typeof input.NextToken === 'string' ? Buffer.from(input.NextToken, 'base64url').toString('utf8') : null;
  const rest = after === null ? names : names.filter((n) => n > after);
  const out = rest.slice(0, max);
  return { names: out, next: input.MaxResults !== undefined && rest.length > max ? Buffer.from(out.at(-1)!, 'utf8').toString('base64url') : undefined };
}

export async function listQueues(ctx: SqsContext, input: Input): Promise<{ QueueUrls?: string[]; NextToken?: string }> {
  const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
  const { names, next } = page((await sqsQueueNames(ctx)).filter((n) => n.startsWith(prefix)), input);
  return { ...(names.length > 0 ? { QueueUrls: names.map((n) => ctx.urlOf(n)) } : {}), ...(next ? { NextToken: next } : {}) };
}

export async function deleteQueue(ctx: SqsContext, input: Input): Promise<Record<string, never>> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  // SQS deletes a queue with its messages in flight: force.
  await ctx.call('deleteQueue', { queue: queue.name, force: true });
  ctx.cache.forget(queue.name);
  return {};
}

export async function purgeQueue(ctx: SqsContext, input: Input): Promise<Record<string, never>> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  await ctx.call('purgeQueue', { queue: queue.name });
  return {};
}

export async function getQueueAttributes(ctx: SqsContext, input: Input): Promise<{ Attributes?: Record<string, string> }> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  const wanted = Array.isArray(input.AttributeNames) ? input.AttributeNames.map(String) : [];
  const counts = wanted.some((n) => n === 'All' || n.startsWith('ApproximateNumberOf'));
  const stats = counts ? await ctx.call<QueueStats>('queueStats', { queue: queue.name }) : null;
  const picked = pickAttributes(attributesOf(queue, stats, ctx.region), wanted);
  return Object.keys(picked).length > 0 ? { Attributes: picked } : {};
}

export async function setQueueAttributes(ctx: SqsContext, input: Input): Promise<Record<string, never>> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  const attributes = stringMap(input.Attributes, 'Attributes');
  await configure(ctx, queue.name, settingsOf(queue.name, attributes, queue.config, ctx.host.clock.now()));
  return {};
}

export async function tagQueue(ctx: SqsContext, input: Input): Promise<Record<string, never>> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  const tags = stringMap(input.Tags, 'Tags');
  checkTags(tags);
  await configure(ctx, queue.name, { labels: withTags(queue.config, tags, []) });
  return {};
}

export async function untagQueue(ctx: SqsContext, input: Input): Promise<Record<string, never>> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  const keys = Array.isArray(input.TagKeys) ? input.TagKeys.map(String) : [];
  await configure(ctx, queue.name, { labels: withTags(queue.config, {}, keys) });
  return {};
}

export async function listQueueTags(ctx: SqsContext, input: Input): Promise<{ Tags?: Record<string, string> }> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  const tags = tagsOf(queue.config);
  return Object.keys(tags).length > 0 ? { Tags: tags } : {};
}

/** The queues whose redrive policy names `target` (their settings read one by one: a listing, not a hot path). */
export async function sourcesOf(ctx: SqsContext, target: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await sqsQueueNames(ctx)) {
    const q = await existing(ctx, name);
    if (q?.redrive?.target === target) out.push(name);
  }
  return out;
}

export async function listDeadLetterSourceQueues(ctx: SqsContext, input: Input): Promise<{ queueUrls: string[]; NextToken?: string }> {
  const queue = await ctx.queueOfUrl(input.QueueUrl);
  const { names, next } = page(await sourcesOf(ctx, queue.name), input);
  return { queueUrls: names.map((n) => ctx.urlOf(n)), ...(next ? { NextToken: next } : {}) };
}

