/**
 * Dead-letter queues. Spool dead-letters a job in its own queue (state `dead`) once its lease has
 * expired maxStalls times, which is the queue's maxReceiveCount; a queue with a RedrivePolicy then
 * has its dead jobs moved to the dead-letter queue by this endpoint's redrive sweep. Messages keep
 * their id and sent time. StartMessageMoveTask moves them back.
 */
import type { Job } from '../../core/job.ts';
import type { BrokerHost } from '../host.ts';
import { sqsQueueOf, type SqsQueue } from './attributes.ts';
import { checkSqsName, type SqsContext } from './context.ts';
import { messageIdOf, unwrap, wrap } from './envelope.ts';
import { SqsError } from './errors.ts';

/** Dead reasons that are "received too many times": not expiry, nor drops. */
const REDRIVEN = new Set(['poison', 'max-attempts']);
const PAGE = 100;

const moved = (job: Job, source: string | undefined) => {
  const env = unwrap(job);
  const { source: _from, ...rest } = env;
  return wrap({ ...rest, id: messageIdOf(job), sentAt: env.sentAt ?? job.createdAt, ...(source ? { source } : {}) });
};

/**
 * Moves a queue's dead-lettered jobs to its dead-letter queue: each added there (an idempotency
 * key per job, so two brokers sweeping at once add it once) and then deleted here.
 * Returns how many moved.
 */
export async function redriveDead(host: BrokerHost, queue: SqsQueue): Promise<number> {
  if (!queue.redrive) return 0;
  let count = 0;
  let after: string | undefined;
  for (;;) {
    const { jobs, next } = await host.listPage(queue.name, { state: 'dead', limit: PAGE, ...(after ? { after } : {}) });
    const due = jobs.filter((j) => REDRIVEN.has(j.deadReason ?? ''));
    if (due.length > 0) {
      await host.addMany(queue.redrive.target, due.map((j) => ({ payload: moved(j, queue.name), idempotencyKey: `redrive:${j.id}`, ...(j.group ? { group: j.group } : {}) })));
      for (const j of due) await host.deleteJob(j.id).catch(() => {}); // gone already: another broker moved it
      count += due.length;
    }
    if (!next) return count;
    after = next;
  }
}

/**
 * Every `intervalMs`, moves the dead jobs of queues with a redrive policy. Runs as the broker
 * itself: the policy was set by someone allowed to configure the queue.
 */
export function startRedriveSweep(host: BrokerHost, intervalMs: number, onError: (err: unknown) => void): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      for (const s of await host.stats()) {
        if (s.counts.dead === 0) continue;
        try {
          checkSqsName(s.queue);
        } catch {
          continue;
        }
        await redriveDead(host, sqsQueueOf(s.queue, await host.queueConfig(s.queue)));
      }
    })().catch(onError).finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

const queueOfArn = (arn: unknown, name: string): string => {
  const q = typeof arn === 'string' ? /^arn:[^:]+:sqs:[^:]*:[^:]*:([^:]+)$/.exec(arn)?.[1] : undefined;
  if (!q) throw new SqsError('InvalidParameterValue', `Value ${String(arn)} for parameter ${name} is invalid: an SQS queue ARN is needed.`);
  return checkSqsName(q);
};

/**
 * StartMessageMoveTask: moves every waiting message of a dead-letter queue to DestinationArn, or
 * back to the queue each came from. Runs to the end within the request (through the operation
 * rows: listJobs, addJobs and deleteJob, with their permission checks).
 */
export async function startMessageMoveTask(ctx: SqsContext, input: Record<string, unknown>): Promise<{ TaskHandle: string }> {
  const source = await ctx.queue(queueOfArn(input.SourceArn, 'SourceArn'));
  const destination = input.DestinationArn === undefined ? null : (await ctx.queue(queueOfArn(input.DestinationArn, 'DestinationArn'))).name;
  for (;;) {
    const { jobs } = await ctx.call<{ jobs: Job[] }>('listJobs', { queue: source.name, state: 'ready', limit: PAGE });
    const movable = jobs.filter((j) => destination ?? unwrap(j).source);
    if (movable.length === 0) break;
    const byTarget = new Map<string, Job[]>();
    for (const j of movable) {
      const to = destination ?? unwrap(j).source!;
      byTarget.set(to, [...(byTarget.get(to) ?? []), j]);
    }
    for (const [to, list] of byTarget) {
      await ctx.call('addJobs', { queue: to, jobs: list.map((j) => ({ payload: moved(j, undefined), idempotencyKey: `move:${j.id}`, ...(j.group ? { group: j.group } : {}) })) });
      for (const j of list) await ctx.call('deleteJob', { jobId: j.id });
    }
    if (movable.length < jobs.length) break; // the rest name no queue to go back to
  }
  return { TaskHandle: Buffer.from(JSON.stringify({ source: source.name, at: ctx.host.clock.now() })).toString('base64url') };
}
