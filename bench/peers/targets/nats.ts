/**
 * NATS JetStream with the official client (nats.js: @nats-io/transport-node and
 * @nats-io/jetstream), set up as a job queue the way the JetStream documentation
 * describes one: a work-queue stream (a message is removed once acknowledged) on
 * file storage, one durable pull consumer with explicit acks shared by every
 * worker, a publish resolving on the stream's PubAck.
 *
 * Durability: the file store acknowledges a publish once written to the operating
 * system and fsyncs every 2 minutes by default, so a machine crash can lose
 * acknowledged messages (the figures say so). A worker pulls at most 64 messages at
 * a time (its concurrency), and acks with `ackAck()`, which
 * resolves once the server has processed the ack: that is when a job counts as
 * completed (pulls use `fetch()`, see startWorker). Completion in the store is read from the stream's state: in a
 * work-queue stream every acked message is deleted, so the completed count is the
 * last sequence minus the messages left. Producers and workers are client processes
 * of the server (W4 runs its worker in a process of its own), and the memory (W6)
 * is the nats-server process's. JetStream has no bulk publish before server 2.12:
 * `addBatch` publishes its 1,000 messages at once and waits for every PubAck.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { BenchPayload } from '../../payload.ts';
import type { AttachSpec, BrokerMemory, JobCounts, Target, TargetContext, TargetWorker, WorkerSpec } from '../../target.ts';
import { CompletionTally, encodePayload, envPid, runName, ServerMemory } from './common.ts';

const CONSUMER = 'workers';
/** Pull loops per worker, and how long a pull request waits at the server for messages. */
const PULL_LOOPS = 2;
const PULL_EXPIRES_MS = 1_000;

export function createPeerTarget(context: TargetContext): Target {
  return new NatsTarget(context);
}

class NatsTarget implements Target {
  readonly id = 'nats';
  readonly latencyAcrossProcesses = true;
  readonly #url: string;
  readonly #stream: string;
  readonly #attached: boolean;
  #nc: NatsConnection | null = null;
  #js: JetStreamClient | null = null;
  #jsm: JetStreamManager | null = null;
  #durability: string | null;
  #memory: ServerMemory | null = null;
  readonly #closers: (() => Promise<void>)[] = [];

  constructor(context: TargetContext) {
    const url = process.env.SPOOL_BENCH_NATS_URL;
    if (!url) throw new Error('nats needs a NATS server: set SPOOL_BENCH_NATS_URL, or run `npm run bench:peers`');
    this.#url = url;
    this.#attached = context.attach?.stream !== undefined;
    this.#stream = context.attach?.stream ?? runName('bench');
    this.#durability = context.attach?.durability ?? null;
  }

  get #subject(): string {
    return `${this.#stream}.jobs`;
  }

  async setup(): Promise<void> {
    this.#nc = await connect({ servers: this.#url });
    this.#jsm = await jetstreamManager(this.#nc);
    this.#js = jetstream(this.#nc);
    if (!this.#attached) {
      await this.#jsm.streams.add({
        name: this.#stream,
        subjects: [this.#subject],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        num_replicas: 1,
      });
      await this.#jsm.consumers.add(this.#stream, { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit });
      this.#durability = `nats-server ${this.#nc.info?.version ?? '?'} JetStream, file store (PubAck before fsync; fsync every 2 min), explicit acks`;
      this.#memory = new ServerMemory(envPid('SPOOL_BENCH_NATS_PID'), 'nats-server');
      this.#memory.resetPeak();
    }
  }

  durability(): string {
    if (this.#durability === null) throw new Error('nats target used before setup()');
    return this.#durability;
  }

  async addOne(payload: BenchPayload): Promise<void> {
    await this.#client.publish(this.#subject, encodePayload(payload));
  }

  async addBatch(payloads: readonly BenchPayload[]): Promise<void> {
    const js = this.#client;
    await Promise.all(payloads.map((p) => js.publish(this.#subject, encodePayload(p))));
  }

  async startWorker(spec: WorkerSpec): Promise<TargetWorker> {
    const tally = new CompletionTally('nats', spec);
    const consumer = await this.#client.consumers.get(this.#stream, CONSUMER);
    const { onStart, concurrency } = spec;
    let closing = false;
    let inFlight = 0;
    const slotWaiters: (() => void)[] = [];
    const acks = new Set<Promise<void>>();
    const handle = async (m: JsMsg): Promise<void> => {
      while (inFlight >= concurrency) await new Promise<void>((resolve) => slotWaiters.push(resolve));
      const payload = m.json<BenchPayload>();
      onStart?.(payload);
      inFlight++;
      const ack = this.#ackAck(m)
        .then(
          () => tally.complete(payload),
          (err: unknown) => tally.fail(err),
        )
        .finally(() => {
          inFlight--;
          acks.delete(ack);
          slotWaiters.shift()?.();
        });
      acks.add(ack);
    };
    // Pull requests of half the concurrency each, from two loops, so that one is always waiting at the
    // server while the other's messages are handled. fetch(), not consume(): a fetch's iteration ends only
    // once every message its pull request asked for has arrived (or the request expired), so a closing
    // worker handles what its last pulls bring and leaves nothing delivered-but-unacked behind (consume()
    // drops the messages still on the wire when it stops, and they wait out the 30 s ack timeout; a nak
    // keeps a message pending at the consumer until some worker pulls again).
    const pullLoop = async (): Promise<void> => {
      while (!closing) {
        const batch = await consumer.fetch({ max_messages: Math.max(1, Math.floor(concurrency / PULL_LOOPS)), expires: PULL_EXPIRES_MS });
        for await (const m of batch) await handle(m);
      }
    };
    const loops = Promise.all(Array.from({ length: PULL_LOOPS }, pullLoop)).catch((err: unknown) => tally.fail(err));
    const close = async (): Promise<void> => {
      closing = true;
      await loops; // the pull requests in flight end within their expiry; their messages are handled
      await Promise.all(acks);
    };
    const worker = tally.worker(close);
    this.#closers.push(() => worker.close());
    return worker;
  }

  /** Acks and waits for the server's confirmation. */
  async #ackAck(m: JsMsg): Promise<void> {
    if (!(await m.ackAck())) throw new Error(`the server did not confirm the ack of stream sequence ${m.seq}`);
  }

  async jobCounts(): Promise<JobCounts> {
    const jsm = this.#manager;
    const { state } = await jsm.streams.info(this.#stream);
    const consumer = await jsm.consumers.info(this.#stream, CONSUMER);
    // A work-queue stream deletes what was acked: the fresh stream's last sequence is every message ever added.
    const active = consumer.num_ack_pending;
    return { waiting: state.messages - active, active, completed: state.last_seq - state.messages, failed: 0 };
  }

  async brokerMemory(): Promise<BrokerMemory> {
    if (!this.#memory) throw new Error('nats: memory is read by the process that set the run up');
    return this.#memory.read();
  }

  attachSpec(): AttachSpec {
    return { stream: this.#stream, durability: this.durability() };
  }

  async teardown(): Promise<void> {
    try {
      await Promise.all(this.#closers.map((close) => close()));
      if (!this.#attached && this.#jsm) await this.#jsm.streams.delete(this.#stream);
    } finally {
      await this.#nc?.close();
      this.#nc = null;
      this.#js = null;
      this.#jsm = null;
    }
  }

  get #client(): JetStreamClient {
    if (!this.#js) throw new Error('nats target used before setup()');
    return this.#js;
  }

  get #manager(): JetStreamManager {
    if (!this.#jsm) throw new Error('nats target used before setup()');
    return this.#jsm;
  }
}
