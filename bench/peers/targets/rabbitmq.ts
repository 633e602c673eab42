/**
 * RabbitMQ with amqplib, set up as RabbitMQ's documentation recommends for data
 * safety: a quorum queue (RabbitMQ's replicated durable queue type, which fsyncs a
 * message before it confirms the publish), persistent messages, publisher confirms
 * (every add resolves on the broker's confirm), and manual consumer acks with a
 * prefetch of 64 (the worker's concurrency).
 *
 * Completion: RabbitMQ keeps no record of consumed messages, so a job counts as
 * completed once its ack is settled on the channel (the consumer acks at the end of
 * the no-op handler, and a round trip on the same channel, which the broker answers
 * after the acks before it, settles them), and the run checks that the queue is
 * empty. The acks of every worker are tallied in files in the run's data
 * directory, so that the process that checks the counts sees those of the worker
 * processes (W7) too. Producers and workers are client processes of the broker
 * (W4 runs its worker in a process of its own), and the memory (W6) is the broker's
 * Erlang VM (beam.smp).
 */
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchPayload } from '../../payload.ts';
import type { AttachSpec, BrokerMemory, JobCounts, Target, TargetContext, TargetWorker, WorkerSpec } from '../../target.ts';
import { CompletionTally, encodePayload, envPid, runName, ServerMemory } from './common.ts';

const QUEUE_ARGUMENTS = { 'x-queue-type': 'quorum' } as const;
const PUBLISH_OPTIONS = { persistent: true, contentType: 'application/json' } as const;
/** The files in the data directory that hold a closed worker's settled acks. */
const ACK_FILE = /^rabbitmq-acks-\d+-\d+\.txt$/;

export function createPeerTarget(context: TargetContext): Target {
  return new RabbitmqTarget(context);
}

class RabbitmqTarget implements Target {
  readonly id = 'rabbitmq';
  readonly latencyAcrossProcesses = true;
  readonly #url: string;
  readonly #dataDir: string;
  readonly #queue: string;
  readonly #attached: boolean;
  #connection: ChannelModel | null = null;
  #admin: Channel | null = null;
  #producer: ConfirmChannel | null = null;
  #durability: string | null;
  #memory: ServerMemory | null = null;
  /** Tallies of this process's workers still running (closed ones are in files). */
  readonly #liveTallies = new Set<CompletionTally>();
  readonly #closers: (() => Promise<void>)[] = [];
  #workersStarted = 0;

  constructor(context: TargetContext) {
    const url = process.env.SPOOL_BENCH_AMQP_URL;
    if (!url) throw new Error('rabbitmq needs a RabbitMQ server: set SPOOL_BENCH_AMQP_URL, or run `npm run bench:peers`');
    this.#url = url;
    this.#dataDir = context.dataDir;
    this.#attached = context.attach?.queue !== undefined;
    this.#queue = context.attach?.queue ?? runName('bench');
    this.#durability = context.attach?.durability ?? null;
  }

  async setup(): Promise<void> {
    this.#connection = await connect(this.#url);
    this.#connection.on('error', () => {}); // a broken connection fails the calls in flight, which report it
    this.#admin = await this.#connection.createChannel();
    if (!this.#attached) {
      await this.#admin.assertQueue(this.#queue, { durable: true, arguments: QUEUE_ARGUMENTS });
      const version = String(this.#connection.connection.serverProperties.version ?? '?');
      this.#durability = `RabbitMQ ${version}, quorum queue (fsync before confirm), publisher confirms, manual acks`;
      this.#memory = new ServerMemory(envPid('SPOOL_BENCH_RABBITMQ_PID'), 'beam.smp');
      this.#memory.resetPeak();
    }
    this.#producer = await this.#connection.createConfirmChannel();
  }

  durability(): string {
    if (this.#durability === null) throw new Error('rabbitmq target used before setup()');
    return this.#durability;
  }

  addOne(payload: BenchPayload): Promise<void> {
    const channel = this.#channel;
    return new Promise<void>((resolve, reject) => {
      channel.sendToQueue(this.#queue, Buffer.from(encodePayload(payload)), PUBLISH_OPTIONS, (err) => (err ? reject(new Error('the broker nacked a publish')) : resolve()));
    });
  }

  async addBatch(payloads: readonly BenchPayload[]): Promise<void> {
    const channel = this.#channel;
    for (const payload of payloads) {
      // false: the socket's buffer is full; wait for it to drain before writing more.
      if (!channel.sendToQueue(this.#queue, Buffer.from(encodePayload(payload)), PUBLISH_OPTIONS)) {
        await new Promise<void>((resolve) => channel.once('drain', () => resolve()));
      }
    }
    await channel.waitForConfirms(); // rejects if the broker nacked any of them
  }

  async startWorker(spec: WorkerSpec): Promise<TargetWorker> {
    const tally = new CompletionTally('rabbitmq', spec);
    const index = this.#workersStarted++;
    const channel = await this.#conn.createChannel();
    channel.on('error', (err: Error) => tally.fail(err));
    await channel.prefetch(spec.concurrency);
    const { onStart } = spec;
    const onMessage = (message: ConsumeMessage | null): void => {
      if (message === null) {
        tally.fail(new Error('the broker cancelled the consumer'));
        return;
      }
      const payload = JSON.parse(message.content.toString('utf8')) as BenchPayload;
      onStart?.(payload);
      channel.ack(message);
      tally.complete(payload);
    };
    const { consumerTag } = await channel.consume(this.#queue, onMessage, { noAck: false });
    this.#liveTallies.add(tally);
    const close = async (): Promise<void> => {
      await channel.cancel(consumerTag);
      // Closing the channel settles every ack sent on it (and requeues anything unacked).
      await channel.close();
      writeFileSync(join(this.#dataDir, `rabbitmq-acks-${process.pid}-${index}.txt`), String(tally.count));
      this.#liveTallies.delete(tally);
    };
    const worker = tally.worker(close, async () => void (await channel.checkQueue(this.#queue)));
    this.#closers.push(() => worker.close());
    return worker;
  }

  async jobCounts(): Promise<JobCounts> {
    // Ready messages; once the workers have closed their channels nothing is unacked.
    const { messageCount } = await this.#adminChannel.checkQueue(this.#queue);
    let completed = 0;
    for (const name of readdirSync(this.#dataDir)) if (ACK_FILE.test(name)) completed += Number(readFileSync(join(this.#dataDir, name), 'utf8'));
    for (const tally of this.#liveTallies) completed += tally.count;
    return { waiting: messageCount, active: 0, completed, failed: 0 };
  }

  async brokerMemory(): Promise<BrokerMemory> {
    if (!this.#memory) throw new Error('rabbitmq: memory is read by the process that set the run up');
    return this.#memory.read();
  }

  attachSpec(): AttachSpec {
    return { queue: this.#queue, durability: this.durability() };
  }

  async teardown(): Promise<void> {
    try {
      await Promise.all(this.#closers.map((close) => close()));
      if (!this.#attached && this.#admin) await this.#admin.deleteQueue(this.#queue);
    } finally {
      await this.#connection?.close().catch(() => {});
      this.#connection = null;
      this.#admin = null;
      this.#producer = null;
    }
  }

  get #conn(): ChannelModel {
    if (!this.#connection) throw new Error('rabbitmq target used before setup()');
    return this.#connection;
  }

  get #adminChannel(): Channel {
    if (!this.#admin) throw new Error('rabbitmq target used before setup()');
    return this.#admin;
  }

  get #channel(): ConfirmChannel {
    if (!this.#producer) throw new Error('rabbitmq target used before setup()');
    return this.#producer;
  }
}
