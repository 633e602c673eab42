/** The operation rows for topics (docs/routing.md): publish, bind, unbind, the bindings, the unrouted queue. */
import { checkPublishOptionKeys, PUBLISH_OPTION_KEYS, type Binding, type Bindings, type PublishOptions, type Published } from '../../core/publish.ts';
import { checkTopic, checkTopicPattern, TOPIC_MAX, TOPIC_PATTERN, TOPIC_PATTERN_PATTERN } from '../../core/topics.ts';
import { LIMITS } from '../../core/limits.ts';
import { errorToWire } from '../../protocol/wire-errors.ts';
import { op } from '../operation-kit.ts';
import type { Operation, OperationContext, OperationHost } from '../operations.ts';
import * as S from '../schemas.ts';

const topic: S.Schema = {
  type: 'string', minLength: 1, maxLength: TOPIC_MAX, pattern: TOPIC_PATTERN,
  description: `A topic: words of letters, digits, '_' or '-' joined by '.' (e.g. orders.eu.created), at most ${TOPIC_MAX} characters.`,
};
const pattern: S.Schema = {
  type: 'string', minLength: 1, maxLength: TOPIC_MAX, pattern: TOPIC_PATTERN_PATTERN,
  description: "A binding's pattern: a topic whose words may also be '*' (exactly one word) or '#' (zero or more words), e.g. orders.*.created, orders.#.",
};
const binding: S.Schema = {
  type: 'object', required: ['pattern', 'queue', 'createdAt'],
  properties: { pattern, queue: S.queueName, createdAt: { type: 'integer', description: 'When it was made (Unix ms).' } },
};
const bindings: S.Schema = {
  type: 'object', required: ['bindings', 'unroutedQueue', 'unrouted'],
  properties: {
    bindings: { type: 'array', items: binding },
    unroutedQueue: { oneOf: [S.queueName, { type: 'null' }], description: 'Where a publish that matches no binding goes; null: nowhere (it is only counted).' },
    unrouted: { type: 'integer', minimum: 0, description: 'Publishes that matched no binding so far.' },
  },
};
const published: S.Schema = {
  type: 'object', required: ['topic', 'jobs', 'unrouted'],
  properties: {
    topic,
    jobs: { type: 'array', items: S.job, description: 'One job per queue the topic routes to, in queue name order.' },
    unrouted: { type: 'boolean', description: 'The topic matched no binding (its job, if any, is in the unrouted queue).' },
  },
};
const publishOptions: Record<string, S.Schema> = Object.fromEntries(PUBLISH_OPTION_KEYS.map((k) => [k, S.addOptions[k]!]));

type PublishInput = { topic: string; payload: unknown; waitMs?: number } & PublishOptions;
type Message = { topic: string; payload: unknown } & PublishOptions;

const notBoth: S.Schema = { not: { required: ['delayMs', 'runAt'] } };
const message: S.Schema = S.object({ topic, payload: S.anyJson, ...publishOptions }, ['topic', 'payload'], notBoth);
const messageResult: S.Schema = {
  oneOf: [
    { type: 'object', required: ['ok', 'value'], properties: { ok: { const: true }, value: published } },
    { type: 'object', required: ['ok', 'error'], properties: { ok: { const: false }, error: S.error } },
  ],
};

/** One publish of a caller: `publish` on every queue its topic routes to (on any queue when it routes nowhere). */
function publishAs(host: OperationHost, ctx: OperationContext, { topic: t, payload, ...options }: Message, waitMs: number): Promise<Published> {
  return host.publishChecked(t, payload, options, waitMs, (queues) => {
    if (queues.length === 0) ctx.authorize('publish');
    for (const q of queues) ctx.authorize('publish', q);
  });
}

export const TOPIC_OPERATIONS = [
  op<PublishInput, Published>({
    name: 'publish', summary: 'Publish to a topic: one job per queue a binding routes it to, all written together or none',
    description: 'Needs `publish` on every queue the topic routes to (a topic that routes nowhere: on any queue). A topic that matches no binding is counted '
      + 'and goes to the unrouted queue if one is set. A full bounded queue (overflow `reject`) fails the whole publish with QUEUE_FULL after `waitMs` (default 0).',
    action: 'publish', queue: 'self',
    input: S.object({ topic, payload: S.anyJson, ...publishOptions, waitMs: S.bounded('queueFullWaitMs', 'How long to wait for room in a full bounded queue; 0 (default): answer QUEUE_FULL at once.') }, ['topic', 'payload'], notBoth),
    output: published,
    http: { method: 'POST', path: '/v1/topics/{topic}/messages', status: 201 }, ws: { call: 'publishTopic' },
    inputRule: 'give delayMs or runAt, not both',
    errors: ['PAYLOAD_TOO_LARGE', 'QUEUE_FULL'],
    explain: ({ topic: t, payload: _p, waitMs: _w, ...options }: Record<string, unknown>) => {
      checkTopic(t);
      checkPublishOptionKeys(options);
    },
    run: (host, { waitMs, ...m }, ctx) => publishAs(host, ctx, m, waitMs ?? 0),
  }),
  op<{ messages: Message[]; waitMs?: number }, { results: unknown[] }>({
    name: 'publishMany', summary: 'Publish many messages, each to its topic: one outcome per message, in order (each all or nothing on its own)',
    description: 'What the TypeScript client sends for the publishes of one tick. Each message is a publish of its own, with the permission rule of `publish`: '
      + 'one refused (FORBIDDEN, QUEUE_FULL, a bad option) fails alone and the others are written.',
    action: 'publish', queue: 'self',
    input: S.object({
      messages: { type: 'array', minItems: 1, maxItems: LIMITS.addManyMax.max, items: message },
      waitMs: S.bounded('queueFullWaitMs', 'How long each message may wait for room in a full bounded queue; 0 (default): QUEUE_FULL at once.'),
    }, ['messages']),
    output: { type: 'object', required: ['results'], properties: { results: { type: 'array', items: messageResult } } },
    http: { method: 'POST', path: '/v1/publish' }, ws: { call: 'publishMany' },
    async run(host, { messages, waitMs }, ctx) {
      // Started together: the engine writes the publishes of one tick in one store call.
      return {
        results: await Promise.all(messages.map((m) => publishAs(host, ctx, m, waitMs ?? 0).then(
          (value) => ({ ok: true, value }),
          (err: unknown) => ({ ok: false, error: errorToWire(err) }),
        ))),
      };
    },
  }),
  op<Record<string, never>, Bindings>({
    name: 'listBindings', summary: 'The bindings to queues the caller may read, the unrouted queue and the count of publishes that matched no binding',
    description: 'Lists the bindings whose queue the caller may read (all of them for `admin`); the unrouted queue shows as null to a caller that may not read it.',
    action: 'read', queue: 'self',
    input: S.object({}), output: bindings,
    http: { method: 'GET', path: '/v1/bindings' }, ws: { call: 'bindings' },
    async run(host, _input, ctx) {
      const r = await host.bindings();
      const readable = (q: string | null) => q !== null && ctx.access.can('read', q);
      return { ...r, bindings: r.bindings.filter((b) => readable(b.queue)), unroutedQueue: readable(r.unroutedQueue) ? r.unroutedQueue : null };
    },
  }),
  op<{ pattern: string; queue: string }, Binding>({
    name: 'bind', summary: 'Route topics matching a pattern to a queue (a binding already there stays as it is)',
    action: 'admin', queue: 'none',
    input: S.object({ pattern, queue: S.queueName }, ['pattern', 'queue']), output: binding,
    http: { method: 'POST', path: '/v1/bindings', status: 201 }, ws: { call: 'bind' },
    explain: ({ pattern: p }: { pattern?: unknown }) => void checkTopicPattern(p),
    run: (host, { pattern: p, queue }) => host.bind(p, queue),
  }),
  op<{ pattern: string; queue: string }, { removed: boolean }>({
    name: 'unbind', summary: 'Remove a binding; `removed: false` when there was none',
    action: 'admin', queue: 'none',
    input: S.object({ pattern, queue: S.queueName }, ['pattern', 'queue']),
    output: { type: 'object', required: ['removed'], properties: { removed: { type: 'boolean' } } },
    http: { method: 'DELETE', path: '/v1/bindings', body: false, query: ['pattern', 'queue'] }, ws: { call: 'unbind' },
    explain: ({ pattern: p }: { pattern?: unknown }) => void checkTopicPattern(p),
    run: (host, { pattern: p, queue }) => host.unbind(p, queue),
  }),
  op<{ queue: string | null }, { unroutedQueue: string | null }>({
    name: 'setUnroutedQueue', summary: 'Set the queue publishes that match no binding go to (null: none; they are only counted)',
    action: 'admin', queue: 'none',
    input: S.object({ queue: { oneOf: [S.queueName, { type: 'null' }] } }, ['queue']),
    output: { type: 'object', required: ['unroutedQueue'], properties: { unroutedQueue: { oneOf: [S.queueName, { type: 'null' }] } } },
    http: { method: 'PUT', path: '/v1/bindings/unrouted-queue' }, ws: { call: 'setUnroutedQueue' },
    async run(host, { queue }) {
      await host.setUnroutedQueue(queue);
      return { unroutedQueue: queue };
    },
  }),
] as const satisfies readonly Operation[];
