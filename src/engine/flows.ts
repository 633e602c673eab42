import type { Clock } from '../core/clock.ts';
import { Batcher } from '../core/batcher.ts';
import { ClosedError, JobNotFoundError } from '../core/errors.ts';
import { checkFlowInput, FLOW_WAIT_AT, type AddedFlow, type Flow, type FlowInput } from '../core/flow.ts';
import type { Job } from '../core/job.ts';
import { queueBound } from '../core/queue-config.ts';
import { checkJobId, checkQueueName } from '../core/validate.ts';
import type { FlowSelection, FlowSettled, NewJobRow, Store } from '../store/store.ts';
import { applyQueueDefaults, buildJobRows } from './inputs.ts';
import type { EngineSettings } from './options.ts';
import type { QueueSettings } from './queue-settings.ts';
import type { Service } from './services.ts';
import type { Telemetry } from './telemetry.ts';

export interface FlowDeps {
  store: Store;
  clock: Clock;
  settings: EngineSettings;
  queues: QueueSettings;
  telemetry: Telemetry;
  markHealthy(): void;
  /** Jobs became ready in `queue`. */
  wake(queue: string): void;
  /** A job was scheduled for `at`. */
  noteDue(at: number): void;
  /** A parent became dead (rule `fail`): waits on it read it again. */
  finished(jobId: string): void;
  reportError(err: unknown, during: string): void;
}

/**
 * Flows (docs/flows.md): `addFlow` writes a parent and its children in one store call; the parent
 * waits, scheduled at FLOW_WAIT_AT, until the store's settling makes it ready (or dead). A child
 * that this process acks or nacks to dead, cancels or deletes settles its flow at once (the
 * settlings of one tick are one store call); the leader's sweep ({@link flowSweep}) settles the
 * rest (a purge, a TTL, a reaped lease, another process that crashed before it settled).
 */
export class Flows {
  readonly #d: FlowDeps;
  readonly #parents: Batcher<string, void>;
  readonly #children: Batcher<string, void>;

  constructor(deps: FlowDeps) {
    this.#d = deps;
    this.#parents = new Batcher(async (ids) => this.#apply(ids, await deps.store.flowsSettle({ parents: ids }, deps.clock.now())), 1000);
    this.#children = new Batcher(async (ids) => this.#apply(ids, await deps.store.flowsSettle({ children: ids }, deps.clock.now())), 1000);
  }

  async add<P, C>(input: FlowInput<P, C>): Promise<AddedFlow<P, C>> {
    const { store, clock, settings, queues } = this.#d;
    const f = checkFlowInput(input, settings.flowChildrenMax) as FlowInput<P, C>;
    const { queue, payload, onChildFailure, children, ...options } = f;
    checkQueueName(queue);
    const now = clock.now();
    const { rows: [parent], jobs: [parentJob] } = buildJobRows<P>(queue, [{ ...options, payload }], now, settings);
    parent!.state = parentJob!.state = 'scheduled';
    parent!.runAt = parentJob!.runAt = FLOW_WAIT_AT;
    const rows: NewJobRow[] = [];
    const jobs: Job<C>[] = [];
    for (const [i, c] of children.entries()) {
      const { queue: q, payload: p, ...o } = c;
      try {
        checkQueueName(q);
        const built = buildJobRows<C>(q, [{ ...o, payload: p }], now, settings);
        rows.push(built.rows[0]!);
        jobs.push(built.jobs[0]!);
      } catch (err) {
        if (err instanceof Error) err.message = `children[${i}]: ${err.message}`;
        throw err;
      }
    }
    const all: [NewJobRow, Job<unknown>][] = [[parent!, parentJob!], ...rows.map((r, i): [NewJobRow, Job<unknown>] => [r, jobs[i]!])];
    for (const [row, job] of all) {
      const config = (await queues.state(row.queue)).config;
      applyQueueDefaults([row], [job], config);
      const bound = queueBound(config);
      if (bound) row.bound = bound;
    }
    await store.flowInsert({ parent: parent!, children: rows, rule: onChildFailure });
    this.#d.markHealthy();
    for (const [row] of all) {
      this.#d.telemetry.added(row.queue, 1);
      if (row === parent) continue;
      if (row.state === 'scheduled') this.#d.noteDue(row.runAt);
      else this.#d.wake(row.queue);
    }
    return { parent: parentJob!, children: jobs };
  }

  /** The flow whose parent is `id`. @throws JobNotFoundError when no flow has this parent. */
  async get(id: string): Promise<Flow> {
    checkJobId(id);
    const flow = await this.#d.store.flowRead(id);
    if (!flow) throw new JobNotFoundError(id);
    const jobs = await this.#d.store.jobsGet([id, ...flow.children.map((c) => c.id)]);
    return {
      id, queue: flow.queue, parent: jobs[0] ?? null, onChildFailure: flow.rule, state: flow.state, createdAt: flow.createdAt, settledAt: flow.settledAt,
      children: flow.children.map((c, i) => ({ id: c.id, queue: c.queue, name: c.name, job: jobs[i + 1] ?? null })),
    };
  }

  /** A child of the flow of `parentId` finished here (an ack, a nack to dead): settle the flow now. */
  childFinished(parentId: string): void {
    void this.#settle(this.#parents.push(parentId));
  }

  /**
   * Jobs were cancelled or deleted here: settles the flows any of them is a child of. Never
   * throws: the action it follows is done, and what fails here the sweep settles.
   */
  async jobsEnded(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.#settle(this.#children.push(id))));
  }

  #settle(done: Promise<void>): Promise<void> {
    return done.catch((err) => {
      // The sweep settles what failed here; a store closing under it is no error of the flow's.
      if (!(err instanceof ClosedError)) this.#d.reportError(err, 'settling a flow');
    });
  }

  #apply(ids: readonly string[], { settled }: { settled: FlowSettled[] }): void[] {
    applySettled(settled, this.#d);
    return ids.map(() => undefined);
  }
}

/** What a settling did, told to this process: consumers of ready parents woken, waits on dead parents answered. */
function applySettled(settled: readonly FlowSettled[], e: { wake(queue: string): void; finished?(jobId: string): void }): void {
  for (const s of settled) {
    if (s.state === 'ready') e.wake(s.queue);
    else if (s.state === 'failed') e.finished?.(s.parentId);
  }
}

/** Waiting flows settled per store call, and calls per tick: bounded, so one tick stays short. */
const SWEEP_BATCH = 100;
const SWEEP_BATCHES_PER_TICK = 10;
/** Settled flows whose parent is gone, forgotten per pass; a pass every FORGET_EVERY_TICKS ticks. */
const FORGET_BATCH = 1000;
const FORGET_EVERY_TICKS = 30;

/**
 * The safety net: settles the waiting flows whose children have all finished, or are gone, or
 * (rule `fail`) include a failed one, whatever ended them (a purge, a queue deleted, a TTL, a
 * reaped lease, a process that crashed before it settled). Pages through the waiting flows by
 * parent id, a bounded batch at a time, going on where the last tick stopped; every
 * FORGET_EVERY_TICKS ticks it forgets flows that were settled and whose parent is gone.
 */
export function flowSweep(): Service {
  let after = '';
  return {
    name: 'flow-sweep',
    scope: 'leader',
    everyTicks: 1,
    async run(store, { now, tick, after: effect }) {
      if (tick % FORGET_EVERY_TICKS === 0) await store.flowsForget(FORGET_BATCH);
      for (let i = 0; i < SWEEP_BATCHES_PER_TICK; i++) {
        const select: FlowSelection = { after, limit: SWEEP_BATCH };
        const { settled, next } = await store.flowsSettle(select, now);
        if (settled.length > 0) effect((e) => applySettled(settled, e));
        after = next ?? '';
        if (next === null) return;
      }
    },
  };
}
