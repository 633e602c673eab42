/** The operation rows for flows (docs/flows.md): add a flow, read its tree. */
import { checkFlowInput, FLOW_RULES, type AddedFlow, type Flow, type FlowInput } from '../../core/flow.ts';
import { LIMITS } from '../../core/limits.ts';
import { jobIn, op, type JobInput } from '../operation-kit.ts';
import * as S from '../schemas.ts';

const omit = (keys: readonly string[]): Record<string, S.Schema> => Object.fromEntries(Object.entries(S.addOptions).filter(([k]) => !keys.includes(k)));
/** A flow's jobs have no keys (idempotency, unique); the parent has no delay: it runs when its children have finished. */
const NO_KEYS = ['idempotencyKey', 'uniqueKey', 'uniqueWindowMs'];
const childOptions = omit(NO_KEYS);
const parentOptions = omit([...NO_KEYS, 'delayMs', 'runAt']);
const notBoth: S.Schema = { not: { required: ['delayMs', 'runAt'] } };

const child: S.Schema = S.object({ queue: S.queueName, payload: S.anyJson, ...childOptions }, ['queue', 'payload'], notBoth);
const rule: S.Schema = {
  enum: FLOW_RULES,
  description: 'What a failed child (dead, cancelled, deleted, expired) does: `fail` makes the parent dead at once (deadReason `child-failed`); `ignore` runs the parent once every child has finished, with the completed ones in `childResults`; `continue` runs it with every child in `childResults`, the failed ones with their state and error.',
};
const flowInput: S.Schema = S.object({
  queue: S.queueName, payload: S.anyJson, onChildFailure: rule,
  children: { type: 'array', minItems: 1, maxItems: LIMITS.flowChildrenMax.max, items: child, description: `The children: 1 to the broker's flowChildrenMax (default ${LIMITS.flowChildrenMax.default}), each in any queue.` },
  ...parentOptions,
}, ['queue', 'payload', 'onChildFailure', 'children']);

const addedFlow: S.Schema = {
  type: 'object', required: ['parent', 'children'],
  properties: { parent: { ...S.job, description: 'The parent: scheduled, waiting for its children.' }, children: { type: 'array', items: S.job } },
};
const flowChild: S.Schema = {
  type: 'object', required: ['id', 'queue', 'name', 'job'],
  properties: { id: S.jobId, queue: S.queueName, name: { type: 'string' }, job: { oneOf: [S.job, { type: 'null' }], description: 'The child as it is now; null once deleted.' } },
};
const flow: S.Schema = {
  type: 'object', required: ['id', 'queue', 'parent', 'onChildFailure', 'state', 'createdAt', 'settledAt', 'children'],
  properties: {
    id: { ...S.jobId, description: "The parent's id." },
    queue: { ...S.queueName, description: "The parent's queue." },
    parent: { oneOf: [S.job, { type: 'null' }], description: 'The parent as it is now; null once deleted.' },
    onChildFailure: rule,
    state: { enum: ['waiting', 'ready', 'failed', 'ended'], description: '`waiting` for children; `ready`: the parent was made ready with their results; `failed`: made dead by a failed child (rule `fail`); `ended`: the parent was cancelled, deleted or expired while it waited.' },
    createdAt: { type: 'integer' },
    settledAt: { type: ['integer', 'null'], description: 'When the flow left `waiting`; null while it waits.' },
    children: { type: 'array', items: flowChild },
  },
};

export const FLOW_OPERATIONS = [
  op<FlowInput, AddedFlow>({
    name: 'addFlow', summary: 'Add a flow: a parent job that runs once its children (in any queues) have finished, all written together or none',
    description: 'Needs `publish` on the parent\'s queue and on every child\'s queue. The parent is stored `scheduled`, waiting; when its last child '
      + 'finishes it becomes ready with `childResults` (or dead, rule `fail`). A full bounded queue (overflow `reject`) fails the whole flow with QUEUE_FULL.',
    action: 'publish', queue: 'self',
    input: flowInput, output: addedFlow,
    http: { method: 'POST', path: '/v1/flows', status: 201 }, ws: { call: 'addFlow' },
    inputRule: 'give a child delayMs or runAt, not both',
    errors: ['PAYLOAD_TOO_LARGE', 'QUEUE_FULL'],
    explain: (input: unknown) => void checkFlowInput(input, LIMITS.flowChildrenMax.max),
    async run(host, input, ctx) {
      ctx.authorize('publish', input.queue);
      for (const c of input.children) ctx.authorize('publish', c.queue);
      return host.addFlow(input);
    },
  }),
  op<JobInput, Flow>({
    name: 'getFlow', summary: "A flow's tree: its parent and each child as they are now, its rule and where it stands",
    description: 'Needs `read` on the parent\'s queue and on every child\'s queue.',
    action: 'read', queue: 'self',
    input: S.object(jobIn, ['jobId']), output: flow,
    http: { method: 'GET', path: '/v1/flows/{jobId}' }, ws: { call: 'getFlow' }, errors: ['JOB_NOT_FOUND'],
    async run(host, { jobId }, ctx) {
      const f = await host.getFlow(jobId);
      ctx.authorize('read', f.queue);
      for (const c of f.children) ctx.authorize('read', c.queue);
      return f;
    },
  }),
];
