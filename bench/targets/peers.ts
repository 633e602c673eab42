/**
 * The peer targets (BullMQ, pg-boss, RabbitMQ, NATS JetStream) as the runner sees
 * them: which client library and which server each needs, why one is skipped, and
 * a {@link Target} that loads the peer's code only when it is set up.
 *
 * The peers' code lives in `bench/peers/targets/`, with their client libraries in
 * `bench/peers/node_modules` (installed by `npm run bench:peers`, never by the main
 * package.json). Nothing here imports them: a clone without bench/peers installed
 * type-checks, tests and runs the Spool targets as before, and the Spool targets'
 * child processes never load a peer's library (it would count in their memory).
 * @example
 * peerSkipReason('bullmq'); // 'no Redis server: set SPOOL_BENCH_REDIS_URL, or run `npm run bench:peers`, which starts one' (or null)
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AttachSpec, BrokerMemory, JobCounts, Target, TargetContext, TargetWorker, WorkerSpec } from '../target.ts';
import type { BenchPayload } from '../payload.ts';

/** The ids of the peer targets. */
export const PEER_IDS = ['bullmq', 'pg-boss', 'rabbitmq', 'nats'] as const;
/** One of {@link PEER_IDS}. */
export type PeerId = (typeof PEER_IDS)[number];

/** Where the peers' package.json, node_modules and target code are. */
export const PEERS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers');

/** Set by `npm run bench:peers` (bench/peers/main.ts): the peers were asked for. pg-boss, which needs no server of its own, runs only then. */
export const PEERS_ENV = 'SPOOL_BENCH_PEERS';

/** What the runner needs to know of a peer. */
export interface PeerInfo {
  id: PeerId;
  /** Its module in bench/peers/targets/, which exports `createPeerTarget(context): Target`. */
  module: string;
  /** npm packages it loads from bench/peers/node_modules. */
  packages: readonly string[];
  /** The environment variable that names its server, or null when it uses the runner's PostgreSQL. */
  urlEnv: string | null;
  /** The environment variable that gives its server's process id (for W6), or null. */
  pidEnv: string | null;
  /** The server, for messages. */
  server: string;
  needsPostgres: boolean;
  /** Producers and workers are separate processes of a server (W4 puts its worker in a process of its own). */
  latencyAcrossProcesses: boolean;
}

/** Every peer, in report order. */
export const PEERS: Readonly<Record<PeerId, PeerInfo>> = {
  bullmq: {
    id: 'bullmq',
    module: 'bullmq.ts',
    packages: ['bullmq', 'ioredis'],
    urlEnv: 'SPOOL_BENCH_REDIS_URL',
    pidEnv: 'SPOOL_BENCH_REDIS_PID',
    server: 'Redis',
    needsPostgres: false,
    latencyAcrossProcesses: true,
  },
  'pg-boss': {
    id: 'pg-boss',
    module: 'pg-boss.ts',
    packages: ['pg-boss'],
    urlEnv: null,
    pidEnv: null,
    server: 'PostgreSQL',
    needsPostgres: true,
    // As spool-postgres: the queue's engine is a library in the application's process.
    latencyAcrossProcesses: false,
  },
  rabbitmq: {
    id: 'rabbitmq',
    module: 'rabbitmq.ts',
    packages: ['amqplib'],
    urlEnv: 'SPOOL_BENCH_AMQP_URL',
    pidEnv: 'SPOOL_BENCH_RABBITMQ_PID',
    server: 'RabbitMQ',
    needsPostgres: false,
    latencyAcrossProcesses: true,
  },
  nats: {
    id: 'nats',
    module: 'nats.ts',
    packages: ['@nats-io/transport-node', '@nats-io/jetstream'],
    urlEnv: 'SPOOL_BENCH_NATS_URL',
    pidEnv: 'SPOOL_BENCH_NATS_PID',
    server: 'NATS',
    needsPostgres: false,
    latencyAcrossProcesses: true,
  },
};

/** True for the id of a peer target. */
export function isPeerId(id: string): id is PeerId {
  return (PEER_IDS as readonly string[]).includes(id);
}

/** The packages of a peer that bench/peers/node_modules lacks. */
export function missingPackages(id: PeerId, peersDir: string = PEERS_DIR): string[] {
  return PEERS[id].packages.filter((name) => !existsSync(join(peersDir, 'node_modules', name, 'package.json')));
}

/**
 * Why a peer cannot run here and now, or null when it can: its client library must
 * be installed in bench/peers, and its server named in the environment (pg-boss
 * uses the runner's PostgreSQL, and runs when `npm run bench:peers` asked for it).
 */
export function peerSkipReason(id: PeerId, env: NodeJS.ProcessEnv = process.env, peersDir: string = PEERS_DIR): string | null {
  const info = PEERS[id];
  const missing = missingPackages(id, peersDir);
  if (missing.length > 0) {
    return `its client library (${missing.join(', ')}) is not installed in bench/peers: \`npm run bench:peers\` installs it`;
  }
  if (info.urlEnv !== null) {
    if (!env[info.urlEnv]) return `no ${info.server} server: set ${info.urlEnv}, or run \`npm run bench:peers\`, which starts one`;
  } else if (!env[PEERS_ENV]) {
    return `peers run with \`npm run bench:peers\` (or set ${PEERS_ENV}=1 once bench/peers is installed)`;
  }
  return null;
}

/** What a peer module exports. */
interface PeerModule {
  createPeerTarget(context: TargetContext): Target;
}

/**
 * A peer's target, loaded from bench/peers/targets/ on setup() (a dynamic import:
 * the main tsconfig neither sees nor needs the peers' types). Everything else is
 * passed on to it.
 */
export class LazyPeerTarget implements Target {
  readonly id: PeerId;
  readonly latencyAcrossProcesses: boolean;
  readonly #context: TargetContext;
  #inner: Target | null = null;

  constructor(id: PeerId, context: TargetContext) {
    this.id = id;
    this.latencyAcrossProcesses = PEERS[id].latencyAcrossProcesses;
    this.#context = context;
  }

  async setup(): Promise<void> {
    const url = pathToFileURL(join(PEERS_DIR, 'targets', PEERS[this.id].module)).href;
    const module = (await import(url)) as PeerModule;
    this.#inner = module.createPeerTarget(this.#context);
    await this.#inner.setup();
  }

  durability(): string {
    return this.#target.durability();
  }

  addOne(payload: BenchPayload): Promise<void> {
    return this.#target.addOne(payload);
  }

  addBatch(payloads: readonly BenchPayload[]): Promise<void> {
    return this.#target.addBatch(payloads);
  }

  startWorker(options: WorkerSpec): Promise<TargetWorker> {
    return this.#target.startWorker(options);
  }

  jobCounts(): Promise<JobCounts> {
    return this.#target.jobCounts();
  }

  brokerMemory(): Promise<BrokerMemory> {
    return this.#target.brokerMemory();
  }

  attachSpec(): AttachSpec {
    const inner = this.#target;
    if (!inner.attachSpec) throw new Error(`${this.id} cannot be shared by several processes`);
    return inner.attachSpec();
  }

  async teardown(): Promise<void> {
    await this.#inner?.teardown();
  }

  get #target(): Target {
    if (!this.#inner) throw new Error(`${this.id} target used before setup()`);
    return this.#inner;
  }
}
