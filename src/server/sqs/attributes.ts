/**
 * Queue attributes: which SQS attribute is which Spool setting, and where the ones Spool has no
 * setting for live (the queue's `labels`, under names starting `sqs:`; queue tags are the other
 * labels). Read and written here only.
 */
import type { QueueStats } from '../../core/job.ts';
import type { QueueConfig, QueueConfigInput } from '../../core/queue-config.ts';
import { SqsError } from './errors.ts';

/** Labels whose name starts with this hold SQS attributes; tags may not use it. */
export const ATTRIBUTE_LABEL_PREFIX = 'sqs:';
/** Most tags on one queue, as on SQS. */
export const TAGS_MAX = 50;

/** Spool's bound on lease expiries before a job is dead (maxStalls), so the largest maxReceiveCount. */
const RECEIVE_COUNT_MAX = 100;
/** maxStalls of a queue without a redrive policy: Spool has no "never"; the most it allows. */
const NO_REDRIVE_STALLS = 100;
/** maxAttempts of every SQS queue: only lease expiries (receives) end a message, never failures. */
const MAX_ATTEMPTS = 1000;

/** The attributes a queue stores, with their SQS bounds (seconds, bytes). */
const STORED = {
  DelaySeconds: { min: 0, max: 900, default: 0 },
  MaximumMessageSize: { min: 1024, max: 262_144, default: 262_144 },
  MessageRetentionPeriod: { min: 60, max: 1_209_600, default: 345_600 },
  ReceiveMessageWaitTimeSeconds: { min: 0, max: 20, default: 0 },
} as const;
type StoredName = keyof typeof STORED;

const SETTABLE = ['VisibilityTimeout', ...Object.keys(STORED), 'RedrivePolicy', 'ContentBasedDeduplication', 'SqsManagedSseEnabled'] as const;
const CREATE_ONLY = ['FifoQueue'] as const;
const READ_ONLY = ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed', 'CreatedTimestamp', 'LastModifiedTimestamp'] as const;
/** Every attribute GetQueueAttributes knows (`All` is all of them). */
export const QUEUE_ATTRIBUTES: readonly string[] = [...READ_ONLY, ...SETTABLE, ...CREATE_ONLY];

/** A queue as SQS sees it: its Spool settings plus what the labels say. */
export interface SqsQueue {
  name: string;
  config: QueueConfig;
  fifo: boolean;
  delaySeconds: number;
  maximumMessageSize: number;
  retentionSeconds: number;
  waitSeconds: number;
  contentDedup: boolean;
  /** The dead-letter queue's name and maxReceiveCount, or null. */
  redrive: { target: string; maxReceiveCount: number } | null;
}

const label = (config: QueueConfig, name: string): string | undefined => config.labels?.[ATTRIBUTE_LABEL_PREFIX + name];

export function sqsQueueOf(name: string, config: QueueConfig): SqsQueue {
  const num = (n: StoredName) => {
    const v = Number(label(config, n));
    return Number.isInteger(v) ? v : STORED[n].default;
  };
  const target = label(config, 'RedriveTarget');
  return {
    name, config,
    fifo: name.endsWith('.fifo'),
    delaySeconds: num('DelaySeconds'),
    maximumMessageSize: num('MaximumMessageSize'),
    retentionSeconds: num('MessageRetentionPeriod'),
    waitSeconds: num('ReceiveMessageWaitTimeSeconds'),
    contentDedup: label(config, 'ContentBasedDeduplication') === 'true',
    redrive: target ? { target, maxReceiveCount: config.maxStalls } : null,
  };
}

/** The queue's tags: its labels outside the attribute names. */
export function tagsOf(config: QueueConfig): Record<string, string> {
  return Object.fromEntries(Object.entries(config.labels ?? {}).filter(([k]) => !k.startsWith(ATTRIBUTE_LABEL_PREFIX)));
}

/** A queue's ARN, as SQS forms it (the account is always 000000000000). */
export const arnOf = (region: string, queue: string): string => `arn:aws:sqs:${region}:000000000000:${queue}`;

/** The queue name of an ARN. */
function queueOfArn(arn: string): string {
  const name = /^arn:[^:]+:sqs:[^:]*:[^:]*:([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/.exec(arn)?.[1];
  if (!name) throw new SqsError('InvalidAttributeValue', `Value ${arn} for parameter RedrivePolicy is invalid. Reason: deadLetterTargetArn is not an SQS queue ARN.`);
  return name;
}

function integerAttribute(name: string, value: string, min: number, max: number): number {
  const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}: it must be an integer from ${min} to ${max} (got ${JSON.stringify(value)}).`);
  return n;
}

/**
 * The settings input that stores SQS attributes on a queue (new labels merged over `labels`).
 * `creating`: the attributes of CreateQueue (FifoQueue allowed, defaults filled in).
 * @throws SqsError InvalidAttributeName, InvalidAttributeValue
 */
export function settingsOf(queue: string, attributes: Readonly<Record<string, string>>, current: QueueConfig | null, now: number): QueueConfigInput {
  const labels: Record<string, string> = { ...(current?.labels ?? {}) };
  const input: QueueConfigInput = {};
  const fifo = queue.endsWith('.fifo');
  const set = (name: string, value: string) => (labels[ATTRIBUTE_LABEL_PREFIX + name] = value);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value !== 'string') throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}: a string is needed.`);
    if (name in STORED) {
      const b = STORED[name as StoredName];
      set(name, String(integerAttribute(name, value, b.min, b.max)));
    } else if (name === 'VisibilityTimeout') {
      // Spool's shortest lease is visibilityTimeoutMs' minimum; 0 (a message visible again at once) has no setting.
      input.visibilityTimeoutMs = integerAttribute(name, value, 1, 43_200) * 1000;
    } else if (name === 'RedrivePolicy') {
      if (value === '') {
        delete labels[ATTRIBUTE_LABEL_PREFIX + 'RedriveTarget'];
        input.maxStalls = NO_REDRIVE_STALLS;
        continue;
      }
      let policy: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
      try {
        policy = JSON.parse(value);
      } catch {
        throw new SqsError('InvalidAttributeValue', 'Value for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map.');
      }
      if (typeof policy?.deadLetterTargetArn !== 'string') throw new SqsError('InvalidAttributeValue', 'Value for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
      const target = queueOfArn(policy.deadLetterTargetArn);
      if (target.endsWith('.fifo') !== fifo) throw new SqsError('InvalidAttributeValue', 'Value for parameter RedrivePolicy is invalid. Reason: the dead-letter queue of a FIFO queue must be a FIFO queue, and of a standard queue a standard queue.');
      const count = integerAttribute('RedrivePolicy.maxReceiveCount', String(policy.maxReceiveCount ?? ''), 1, RECEIVE_COUNT_MAX);
      set('RedriveTarget', target);
      input.maxStalls = count;
    } else if (name === 'ContentBasedDeduplication') {
      if (!fifo) throw new SqsError('InvalidAttributeName', 'Unknown Attribute ContentBasedDeduplication: it is for FIFO queues only.');
      if (value !== 'true' && value !== 'false') throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ContentBasedDeduplication: true or false (got ${JSON.stringify(value)}).`);
      set(name, value);
    } else if (name === 'SqsManagedSseEnabled') {
      // Accepted and kept for tools that always send it: Spool does not encrypt messages at rest itself (docs/sqs.md).
      if (value !== 'true' && value !== 'false') throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter SqsManagedSseEnabled: true or false (got ${JSON.stringify(value)}).`);
      set(name, value);
    } else if (name === 'FifoQueue') {
      if (current !== null) throw new SqsError('InvalidAttributeName', 'Unknown Attribute FifoQueue: it is set when the queue is created.');
      if (value !== String(fifo)) {
        throw new SqsError('InvalidParameterValue', fifo ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and FifoQueue must be true.'
          : 'Can only include alphanumeric characters, hyphens, or underscores; a queue with FifoQueue true must have a name ending in .fifo.');
      }
    } else {
      throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}${(READ_ONLY as readonly string[]).includes(name) ? ': it cannot be set' : ' (Spool\'s SQS endpoint supports ' + [...SETTABLE, ...CREATE_ONLY].join(', ') + ')'}.`);
    }
  }
  if (current === null) {
    input.groupFifo = fifo;
    input.maxAttempts = MAX_ATTEMPTS;
    input.maxStalls ??= NO_REDRIVE_STALLS;
    set('CreatedTimestamp', String(Math.floor(now / 1000)));
  }
  set('LastModifiedTimestamp', String(Math.floor(now / 1000)));
  input.labels = labels;
  return input;
}

/** Whether CreateQueue's attributes match what the existing queue has (SQS refuses a create that differs). */
export function sameAttributes(queue: SqsQueue, attributes: Readonly<Record<string, string>>, region: string): boolean {
  const now = attributesOf(queue, null, region);
  return Object.entries(attributes).every(([k, v]) => k === 'FifoQueue' || now[k] === undefined || now[k] === v);
}

/** The attributes GetQueueAttributes answers with, from the queue and (for the approximate counts) its stats. */
export function attributesOf(queue: SqsQueue, stats: QueueStats | null, region: string): Record<string, string> {
  const c = queue.config;
  const out: Record<string, string> = {
    QueueArn: arnOf(region, queue.name),
    CreatedTimestamp: label(c, 'CreatedTimestamp') ?? '0',
    LastModifiedTimestamp: label(c, 'LastModifiedTimestamp') ?? label(c, 'CreatedTimestamp') ?? '0',
    VisibilityTimeout: String(Math.ceil(c.visibilityTimeoutMs / 1000)),
    DelaySeconds: String(queue.delaySeconds),
    MaximumMessageSize: String(queue.maximumMessageSize),
    MessageRetentionPeriod: String(queue.retentionSeconds),
    ReceiveMessageWaitTimeSeconds: String(queue.waitSeconds),
    SqsManagedSseEnabled: label(c, 'SqsManagedSseEnabled') ?? 'false',
  };
  if (stats) {
    out.ApproximateNumberOfMessages = String(stats.counts.ready);
    out.ApproximateNumberOfMessagesNotVisible = String(stats.counts.active);
    out.ApproximateNumberOfMessagesDelayed = String(stats.counts.scheduled);
  }
  if (queue.redrive) out.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arnOf(region, queue.redrive.target), maxReceiveCount: queue.redrive.maxReceiveCount });
  if (queue.fifo) {
    out.FifoQueue = 'true';
    out.ContentBasedDeduplication = String(queue.contentDedup);
  }
  return out;
}

/** The attributes asked for (`All` for every one). @throws SqsError InvalidAttributeName */
export function pickAttributes(all: Record<string, string>, names: readonly string[] | undefined): Record<string, string> {
  if (!names || names.length === 0) return {};
  if (names.includes('All')) return all;
  const out: Record<string, string> = {};
  for (const n of names) {
    if (!QUEUE_ATTRIBUTES.includes(n)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
    if (all[n] !== undefined) out[n] = all[n];
  }
  return out;
}
