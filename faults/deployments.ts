/**
 * The three deployments a fault run covers, each with one producer and two workers:
 * - `embedded`: producer and workers each `Spool.open` the same SQLite file;
 * - `broker-sqlite`: one `spool serve` on a SQLite file, remote clients;
 * - `brokers-postgres`: two `spool serve` on one PostgreSQL schema, clients given both URLs.
 * The runner reads the store directly (`Spool.open`, maintenance off) to configure the queue,
 * wait for the drain and make the final read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../test/support/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../src/index.ts';
import type { Role } from './events.ts';
import { BrokerProcess, ClientProcess, History, type Managed } from './processes.ts';
import { PostgresProcess } from './postgres.ts';
import { PartitionRelay as Relay } from '../test/support/relay.ts';
import type { ClientConfig } from './clients/client-config.ts';

export const DEPLOYMENTS = ['embedded', 'broker-sqlite', 'brokers-postgres'] as const;
export type DeploymentName = (typeof DEPLOYMENTS)[number];

export const QUEUE = 'faults';
/** Lease length: short, so a killed or stopped worker's jobs come back quickly. Jobs take WORK_MS, far less. */
export const VISIBILITY_MS = 1_000;
const WORK_MS = 30;
/** Background duties often, so leases are reaped within ~100 ms of running out. */
const BROKER_SETTINGS = ['--set', 'maintenanceIntervalMs=100', '--set', 'pollIntervalMs=50'];
const PG_SETTINGS = ['--set', 'heartbeatIntervalMs=500', '--set', 'leaderLeaseMs=1000'];

export interface Deployment {
  name: DeploymentName;
  history: History;
  producer: ClientProcess;
  workers: ClientProcess[];
  brokers: BrokerProcess[];
  /** The PostgreSQL server of the deployment's own, when it was made with `ownPostgres`. */
  postgres: PostgresProcess | null;
  /** The processes a fault of `role` may hit. */
  targets(role: Role): Managed[];
  /** Cuts (or heals) the network between worker `worker` and every broker. */
  partition(worker: number, cut: boolean): void;
  /** Opens the store for the runner's reads (maintenance off). */
  reader(): Promise<Spool>;
  start(): Promise<void>;
  /**
   * Stops every process and deletes the SQLite files (the PostgreSQL schema is left: its name is
   * unique), and the deployment's own PostgreSQL with its data directory.
   */
  dispose(): Promise<void>;
}


let schemas = 0;

/**
 * `relays`: each worker reaches each broker through a TCP relay of its own
 * ({@link Deployment.partition} cuts them), for the partition fault. `ownPostgres` (brokers-postgres):
 * a PostgreSQL server of the deployment's own instead of `pgUrl`, for the faults that stop it.
 */
export async function makeDeployment(name: DeploymentName, options: { pgUrl?: string; rate?: number; relays?: boolean; ownPostgres?: boolean } = {}): Promise<Deployment> {
  const history = new History();
  const dir = mkdtempSync(join(tmpdir(), `spool-faults-${name}-`));
  const sqlite = join(dir, 'spool.db');
  let store = sqlite;
  let schema: string | null = null;
  const brokers: BrokerProcess[] = [];
  const postgres = name === 'brokers-postgres' && options.ownPostgres ? await PostgresProcess.create(history) : null;
  if (name === 'broker-sqlite') brokers.push(new BrokerProcess('broker-0', history, sqlite, await freePort(), BROKER_SETTINGS));
  if (name === 'brokers-postgres') {
    const url = postgres?.url ?? options.pgUrl;
    if (!url) throw new Error('brokers-postgres needs a PostgreSQL URL (SPOOL_TEST_PG_URL)');
    store = url;
    schema = `faults_${process.pid}_${Date.now().toString(36)}_${schemas++}`;
    for (let i = 0; i < 2; i++) brokers.push(new BrokerProcess(`broker-${i}`, history, store, await freePort(), [...BROKER_SETTINGS, ...PG_SETTINGS, '--schema', schema]));
  }
  const relays: Relay[][] = [];
  if (options.relays && brokers.length > 0) for (let i = 0; i < 2; i++) relays.push(await Promise.all(brokers.map((b) => Relay.open(b.port))));
  const target = (urls = brokers.map((b) => b.url)): ClientConfig['target'] => (name === 'embedded' ? { kind: 'embedded', store: sqlite } : { kind: 'remote', urls });
  const producer = new ClientProcess('producer', 'producer', history, () => ({ queue: QUEUE, target: target(), rate: options.rate ?? 100, lanes: 4 }));
  const workers = [0, 1].map((i) => new ClientProcess(`worker-${i}`, 'worker', history, () => ({
    queue: QUEUE, target: target(relays[i]?.map((r) => r.url)), concurrency: 4, workMs: WORK_MS,
  })));
  const all: Managed[] = [...(postgres ? [postgres] : []), ...brokers, producer, ...workers];
  let readers: Spool[] = [];
  const reader = async () => {
    const spool = await Spool.open({ store, ...(schema ? { schema } : {}), maintenance: false, onError: () => {} });
    readers.push(spool);
    return spool;
  };
  return {
    name,
    history,
    producer,
    workers,
    brokers,
    postgres,
    targets: (role) => all.filter((p) => p.role === role),
    partition(worker, cut) {
      const own = relays[worker];
      if (!own) throw new Error(`worker ${worker} has no relays: make the deployment with relays`);
      history.push({ type: 'fault', at: Date.now(), proc: 'runner', action: cut ? 'partition' : 'heal', target: workers[worker]!.proc, role: 'worker' });
      for (const r of own) if (cut) r.cut(); else r.heal();
    },
    reader,
    async start() {
      if (postgres) await postgres.start();
      for (const b of brokers) await b.start();
      // The queue's settings first (the store is created by the first broker, or by this open).
      const spool = await reader();
      await spool.queue(QUEUE).configure({ visibilityTimeoutMs: VISIBILITY_MS, maxAttempts: 1000, maxStalls: 100 });
      for (const w of workers) await w.start();
      await producer.start();
    },
    async dispose() {
      for (const p of all) if (p !== postgres && p.alive()) await p.signal('SIGKILL');
      for (const r of relays.flat()) await r.close();
      for (const r of readers) await r.close().catch(() => {});
      readers = [];
      await postgres?.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
