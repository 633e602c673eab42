import { Batcher } from '../core/batcher.ts';
import { QueueFullError, TooManyRequestsError } from '../core/errors.ts';
import type { Job } from '../core/job.ts';
import { checkPublishOptionKeys, type Bindings, type Binding, type PublishOptions, type Published } from '../core/publish.ts';
import { queueBound } from '../core/queue-config.ts';
import { checkTopic, checkTopicPattern, TopicMatcher } from '../core/topics.ts';
import { checkQueueName } from '../core/validate.ts';
import { newJobId } from '../core/ids.ts';
import type { NewJobRow, PublishItem, PublishOutcome } from '../store/store.ts';
import { applyQueueDefaults, buildJobRows } from './inputs.ts';
import type { IntakeDeps } from './intake.ts';

/** What routing needs: what an add needs (the publish's copies are adds). */
export type RoutingDeps = IntakeDeps;

/** The routing this process last read, compiled: reused until a publish is told it is stale. */
interface Compiled {
  version: number;
  matcher: TopicMatcher;
  unroutedQueue: string | null;
}

/**
 * A routing version that keeps changing under a publish this many times in a row is an
 * operator binding in a loop: the publish gives up (nothing written) rather than spin.
 */
const STALE_TRIES = 50;

/**
 * Topics (docs/routing.md): bindings and publishes. A publish routes its topic with the compiled
 * bindings this process holds and has the store write every copy in one transaction that checks
 * the routing version it routed by; a stale version (a bind or unbind since, by any process) is
 * read again and the publish routed again, so no publish commits by bindings that were replaced
 * before it. The publishes of one tick share a store call, as single adds do.
 */
export class Routing {
  readonly #d: RoutingDeps;
  #compiled: Compiled | null = null;
  #reading: Promise<Compiled> | null = null;
  readonly #publishes: Batcher<PublishItem, PublishOutcome>;

  constructor(deps: RoutingDeps) {
    this.#d = deps;
    this.#publishes = new Batcher(async (items) => {
      const outcomes = await deps.store.topicPublishEach(items);
      deps.markHealthy();
      return outcomes;
    }, 1000);
  }

  async bind(pattern: string, queue: string): Promise<Binding> {
    checkTopicPattern(pattern);
    checkQueueName(queue);
    const now = this.#d.clock.now();
    await this.#d.store.bindingPut({ pattern, queue, now, max: this.#d.settings.bindingsMax });
    this.#compiled = null;
    const found = (await this.#d.store.routingRead()).bindings.find((b) => b.pattern === pattern && b.queue === queue);
    return found ?? { pattern, queue, createdAt: now };
  }

  async unbind(pattern: string, queue: string): Promise<{ removed: boolean }> {
    checkTopicPattern(pattern);
    checkQueueName(queue);
    const removed = await this.#d.store.bindingDelete({ pattern, queue });
    this.#compiled = null;
    return { removed };
  }

  async setUnroutedQueue(queue: string | null): Promise<void> {
    if (queue !== null) checkQueueName(queue, 'unroutedQueue');
    await this.#d.store.unroutedQueueSet(queue);
    this.#compiled = null;
  }

  async bindings(): Promise<Bindings> {
    const r = await this.#d.store.routingRead();
    return { bindings: r.bindings, unroutedQueue: r.unroutedQueue, unrouted: r.unrouted };
  }

  /**
   * Publishes `payload` to `topic`: one job per bound queue, all written or none. `authorize`
   * (a broker's permission check) sees the queues before anything is written. A full bounded
   * queue (overflow `reject`) makes the publish wait for room up to `waitMs`, then QueueFullError.
   */
  async publish<P>(topic: string, payload: P, options: PublishOptions | undefined, waitMs: number = this.#d.settings.queueFullWaitMs,
    authorize?: (queues: readonly string[]) => void): Promise<Published<P>> {
    checkTopic(topic);
    options ??= undefined; // null too, as add takes it: no options
    checkPublishOptionKeys(options);
    const { clock, room } = this.#d;
    const deadline = clock.now() + waitMs;
    for (let stale = 0; ;) {
      const routing = await this.#routing();
      const matched = routing.matcher.match(topic);
      const unrouted = matched.length === 0;
      const queues = unrouted ? (routing.unroutedQueue === null ? [] : [routing.unroutedQueue]) : matched;
      authorize?.(queues);
      const { rows, jobs } = await this.#copies<P>(queues, payload, options);
      const outcome = await this.#publishes.push({ version: routing.version, rows, unrouted });
      if (outcome.status === 'stored') {
        this.#stored(rows, outcome.dropped);
        this.#d.telemetry.published(unrouted);
        return { topic, jobs, unrouted };
      }
      if (outcome.status === 'stale') {
        if (this.#compiled === routing) this.#compiled = null;
        if (++stale >= STALE_TRIES) throw new TooManyRequestsError(`publish to ${topic}: the bindings changed ${STALE_TRIES} times in a row while it routed; nothing was written: publish again`);
        continue;
      }
      const err = outcome.error;
      if (!(err instanceof QueueFullError)) throw err;
      const leftMs = deadline - clock.now();
      if (leftMs <= 0) throw err;
      await room.wait(err.queue, leftMs);
    }
  }

  /** One row per queue, each with the queue's defaults and bound; the payload is encoded once. */
  async #copies<P>(queues: readonly string[], payload: P, options: PublishOptions | undefined): Promise<{ rows: NewJobRow[]; jobs: Job<P>[] }> {
    const { clock, settings } = this.#d;
    if (queues.length === 0) {
      // Nothing to write, but the options are checked all the same: a bad publish is refused whatever its routing.
      buildJobRows<P>('unrouted', [{ ...(options ?? {}), payload }], clock.now(), settings);
      return { rows: [], jobs: [] };
    }
    const { rows: [first], jobs: [firstJob] } = buildJobRows<P>(queues[0]!, [{ ...(options ?? {}), payload }], clock.now(), settings);
    const rows: NewJobRow[] = [];
    const jobs: Job<P>[] = [];
    for (const queue of queues) {
      const id = rows.length === 0 ? first!.id : newJobId(first!.createdAt);
      const row: NewJobRow = { ...first!, id, queue };
      const job: Job<P> = { ...firstJob!, id, queue, history: [] };
      const config = (await this.#d.queues.state(queue)).config;
      applyQueueDefaults([row], [job], config);
      row.bound = queueBound(config);
      rows.push(row);
      jobs.push(job);
    }
    return { rows, jobs };
  }

  #stored(rows: readonly NewJobRow[], dropped: Record<string, number> | undefined): void {
    const { telemetry } = this.#d;
    for (const r of rows) {
      telemetry.added(r.queue, 1);
      if (r.state === 'scheduled') this.#d.noteDue(r.runAt);
      else this.#d.wake(r.queue);
    }
    if (dropped) for (const [q, n] of Object.entries(dropped)) telemetry.dropped(q, n);
  }

  /** The compiled routing: the one held, or read (once for every publish that waits for it). */
  async #routing(): Promise<Compiled> {
    if (this.#compiled) return this.#compiled;
    this.#reading ??= (async () => {
      try {
        const r = await this.#d.store.routingRead();
        const compiled: Compiled = { version: r.version, matcher: new TopicMatcher(r.bindings), unroutedQueue: r.unroutedQueue };
        this.#compiled = compiled;
        return compiled;
      } finally {
        this.#reading = null;
      }
    })();
    return this.#reading;
  }
}
