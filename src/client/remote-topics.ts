import { Batcher } from '../core/batcher.ts';
import type { Job } from '../core/job.ts';
import { errorFromWire } from '../protocol/wire-errors.ts';
import type { WireError } from '../protocol/frames.ts';
import { checkPublishOptionKeys, type Binding, type Bindings, type PublishOptions, type Published } from '../core/publish.ts';
import { checkTopic, checkTopicPattern } from '../core/topics.ts';
import { checkQueueName } from '../core/validate.ts';
import { activeTrace } from '../tracing/tracing.ts';
import { checkStorable } from './remote-inputs.ts';

/** The outcome of one message of a `publishMany` call. */
type MessageResult = { ok: true; value: Published<unknown> } | { ok: false; error: WireError };

/** Sends a call; `resend: false` for one that must not be applied twice (see Connection.request). */
export type RemoteCall = (method: string, params: Record<string, unknown>, resend?: boolean) => Promise<unknown>;

/**
 * The topic operations of the remote client (docs/routing.md). Inputs are checked here as the
 * engine checks them, before anything travels. A publish is never sent again after a reconnect:
 * it has no key the broker could recognize a second copy by, so a connection lost while it was in
 * flight fails it with CONNECTION_LOST (it may or may not have been written, all copies or none).
 */
export class RemoteTopics {
  readonly #call: RemoteCall;
  readonly #waitMs: number;
  /** The publishes of one tick travel in one `publishMany` call (so the broker writes them in one store call). */
  readonly #publishes: Batcher<Record<string, unknown>, MessageResult>;

  constructor(call: RemoteCall, queueFullWaitMs: number, batchMax: () => number) {
    this.#call = call;
    this.#waitMs = queueFullWaitMs;
    this.#publishes = new Batcher(async (messages) => {
      const { results } = (await this.#call('publishMany', { messages, waitMs: this.#waitMs }, false)) as { results: MessageResult[] };
      return results;
    }, Math.max(1, batchMax()));
  }

  async publish<P>(topic: string, payload: P, options: PublishOptions = {}): Promise<Published<P>> {
    checkTopic(topic);
    options ??= {};
    checkPublishOptionKeys(options);
    checkStorable(payload, 'payload');
    const { runAt, trace, ...rest } = options;
    const message: Record<string, unknown> = {
      topic, payload, ...rest,
      // The context is taken here, in the caller's process: the broker cannot see the producer's span.
      trace: trace !== undefined ? trace : activeTrace(),
      ...(runAt === undefined ? {} : { runAt: runAt instanceof Date ? runAt.getTime() : runAt }),
    };
    const r = await this.#publishes.push(message);
    if (!r.ok) throw errorFromWire(r.error);
    return { ...r.value, jobs: r.value.jobs.map((j) => ({ ...j, payload }) as Job<P>) };
  }

  async bind(pattern: string, queue: string): Promise<Binding> {
    checkTopicPattern(pattern);
    checkQueueName(queue);
    return (await this.#call('bind', { pattern, queue })) as Binding;
  }

  async unbind(pattern: string, queue: string): Promise<{ removed: boolean }> {
    checkTopicPattern(pattern);
    checkQueueName(queue);
    return (await this.#call('unbind', { pattern, queue })) as { removed: boolean };
  }

  async bindings(): Promise<Bindings> {
    return (await this.#call('bindings', {})) as Bindings;
  }

  async setUnroutedQueue(queue: string | null): Promise<void> {
    if (queue !== null) checkQueueName(queue, 'unroutedQueue');
    await this.#call('setUnroutedQueue', { queue });
  }
}
