/**
 * The three deployments a fault run covers, each with two producers and two workers:
 * - `embedded`: producer and workers each `Spool.open` the same SQLite file;
 * - `broker-sqlite`: one `spool serve` on a SQLite file, remote clients;
 * - `brokers-postgres`: two `spool serve` on one PostgreSQL schema, clients given both URLs.
 * The runner reads the store directly (`Spool.open`, maintenance off) to configure the queue,
 * wait for the drain and make the final read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { stablePort } from '../test/support/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../src/index.ts';
import type { Role } from './events.ts';
import { BrokerProcess, ClientProcess, History, type Managed } from './processes.ts';
import { PostgresProcess } from './postgres.ts';
import { PostgresPair } from './postgres-pair.ts';
import { SmallDisk } from './disk.ts';
import { SteppableClock } from './clock.ts';
import { PartitionRelay as Relay, type PathFault } from '../test/support/relay.ts';
import type { ClientConfig } from './clients/client-config.ts';

export const DEPLOYMENTS = ['embedded', 'broker-sqlite', 'brokers-postgres'] as const;
export type DeploymentName = (typeof DEPLOYMENTS)[number];

export const QUEUE = 'faults';
/** Lease length: short, so a killed or stopped worker's jobs come back quickly. Jobs take WORK_MS, far less. */
export const VISIBILITY_MS = 1_000;
const WORK_MS = 30;
const PRODUCERS = 2;
/** Every tenth add is delayed 1.5 s: delayed jobs must live through every fault, and never run early. */
const DELAY_EVERY = 10;
const DELAY_MS = 1_500;
const WORKERS = 2;
/** Background duties often, so leases are reaped within ~100 ms of running out. */
const BROKER_SETTINGS = ['--set', 'maintenanceIntervalMs=100', '--set', 'pollIntervalMs=50'];
const PG_SETTINGS = ['--set', 'heartbeatIntervalMs=500', '--set', 'leaderLeaseMs=1000'];

export interface Deployment {
  name: DeploymentName;
  history: History;
  producers: ClientProcess[];
  workers: ClientProcess[];
  brokers: BrokerProcess[];
  /** The PostgreSQL server of the deployment's own, when it was made with `ownPostgres`. */
  postgres: PostgresProcess | null;
  /** The replicated PostgreSQL (a primary and a synchronous standby), when it was made with `replicatedPostgres`. */
  pair: PostgresPair | null;
  /** The small disk the store lives on, when it was made with `smallDiskMb`. */
  disk: SmallDisk | null;
  /**
   * With `steppableClocks`: the clocks the runner may step, one per broker (brokers run on
   * machines of their own), or one for all the clients of the embedded deployment (one machine).
   */
  clocks: SteppableClock[];
  /** The processes a fault of `role` may hit. */
  targets(role: Role): Managed[];
  /** Applies `fault` to the path between `client` and every broker (null: heals it). */
  partition(client: ClientProcess, fault: PathFault | null, delayMs?: number): void;
  /** Opens the store for the runner's reads (maintenance off). */
  reader(): Promise<Spool>;
  /** SQLite's `PRAGMA integrity_check` of the file (`ok` when sound); null on PostgreSQL. */
  integrity(): string | null;
  start(): Promise<void>;
  /**
   * Stops every process and deletes the SQLite files (the PostgreSQL schema is left: its name is
   * unique), and the deployment's own PostgreSQL with its data directory.
   */
  dispose(): Promise<void>;
}


let schemas = 0;

/**
 * `relays`: each client reaches each broker through a TCP relay of its own
 * ({@link Deployment.partition} cuts them), for the partition faults. `ownPostgres` (brokers-postgres):
 * a PostgreSQL server of the deployment's own instead of `pgUrl`, for the faults that stop it.
 * `smallDiskMb`: the SQLite file (or the own PostgreSQL's data directory) on a tmpfs of that size, for the disk-full fault.
 * `steppableClocks`: the brokers (embedded: the clients) on clocks the runner can step, for the clock-step fault.
 * `replicatedPostgres` (brokers-postgres): a primary and a synchronous standby of the deployment's
 * own, the brokers given both addresses, for the failover fault.
 */
export async function makeDeployment(name: DeploymentName, options: { pgUrl?: string; rate?: number; relays?: boolean; ownPostgres?: boolean; smallDiskMb?: number; steppableClocks?: boolean; replicatedPostgres?: boolean; processEnv?: Record<string, string> } = {}): Promise<Deployment> {
  const history = new History();
  const disk = options.smallDiskMb ? SmallDisk.mount(options.smallDiskMb) : null;
  const dir = disk?.dir ?? mkdtempSync(join(tmpdir(), `spool-faults-${name}-`));
  const sqlite = join(dir, 'spool.db');
  let store = sqlite;
  let schema: string | null = null;
  const brokers: BrokerProcess[] = [];
  const postgres = name === 'brokers-postgres' && (options.ownPostgres || disk) ? await PostgresProcess.create(history, disk?.dir) : null;
  const clocks: SteppableClock[] = [];
  /** A steppable clock's environment for a process (a new clock per broker; one for every embedded client). */
  const clockEnv = (name: string): Record<string, string> => {
    const extra = options.processEnv ?? {};
    if (!options.steppableClocks) return extra;
    if (name.startsWith('broker') || clocks.length === 0) clocks.push(new SteppableClock(dir, name));
    return { ...extra, ...clocks.at(-1)!.env() };
  };
  if (name === 'broker-sqlite') brokers.push(new BrokerProcess('broker-0', history, sqlite, await stablePort(), BROKER_SETTINGS, clockEnv('broker-0')));
  const pair = name === 'brokers-postgres' && options.replicatedPostgres ? await PostgresPair.create(history) : null;
  if (name === 'brokers-postgres') {
    const url = pair?.url ?? postgres?.url ?? options.pgUrl;
    if (!url) throw new Error('brokers-postgres needs a PostgreSQL URL (SPOOL_TEST_PG_URL)');
    store = url;
    schema = `faults_${process.pid}_${Date.now().toString(36)}_${schemas++}`;
    for (let i = 0; i < 2; i++) brokers.push(new BrokerProcess(`broker-${i}`, history, store, await stablePort(), [...BROKER_SETTINGS, ...PG_SETTINGS, '--schema', schema], clockEnv(`broker-${i}`)));
  }
  /** Each client's relays (one per broker), by the client's name. */
  const relays = new Map<string, Relay[]>();
  const openRelays = async (client: string) => {
    if (options.relays && brokers.length > 0) relays.set(client, await Promise.all(brokers.map((b) => Relay.open(b.port))));
  };
  const target = (client: string): ClientConfig['target'] =>
    name === 'embedded' ? { kind: 'embedded', store: sqlite } : { kind: 'remote', urls: (relays.get(client) ?? brokers).map((r) => r.url) };
  const embeddedClock = () => (name === 'embedded' ? clockEnv('machine') : (options.processEnv ?? {}));
  const producers: ClientProcess[] = [];
  for (let i = 0; i < PRODUCERS; i++) {
    await openRelays(`producer-${i}`);
    producers.push(new ClientProcess(`producer-${i}`, 'producer', history, () => ({ queue: QUEUE, target: target(`producer-${i}`), rate: (options.rate ?? 100) / PRODUCERS, lanes: 4, delayEvery: DELAY_EVERY, delayMs: DELAY_MS }), embeddedClock()));
  }
  const workers: ClientProcess[] = [];
  for (let i = 0; i < WORKERS; i++) {
    await openRelays(`worker-${i}`);
    workers.push(new ClientProcess(`worker-${i}`, 'worker', history, () => ({ queue: QUEUE, target: target(`worker-${i}`), concurrency: 4, workMs: WORK_MS }), embeddedClock()));
  }
  const all: Managed[] = [...(postgres ? [postgres] : []), ...brokers, ...producers, ...workers];
  let readers: Spool[] = [];
  const reader = async () => {
    const spool = await Spool.open({ store, ...(schema ? { schema } : {}), maintenance: false, onError: () => {} });
    readers.push(spool);
    return spool;
  };
  return {
    name,
    history,
    producers,
    workers,
    brokers,
    postgres,
    disk,
    clocks,
    pair,
    targets: (role) => all.filter((p) => p.role === role),
    partition(client, fault, delayMs = 0) {
      const own = relays.get(client.name);
      if (!own) throw new Error(`${client.name} has no relays: make the deployment with relays`);
      history.push({ type: 'fault', at: Date.now(), proc: 'runner', action: fault ? 'partition' : 'heal', target: client.proc, role: client.role, ...(fault ? { how: fault } : {}) });
      for (const r of own) if (fault) r.apply(fault, delayMs); else r.heal();
    },
    reader,
    integrity() {
      if (schema) return null;
      const db = new DatabaseSync(sqlite, { readOnly: true });
      try {
        return (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
      } finally {
        db.close();
      }
    },
    async start() {
      if (postgres) await postgres.start();
      if (pair) await pair.start();
      await Promise.all(brokers.map((b) => b.start()));
      // The queue's settings first (the store is created by the first broker, or by this open).
      const spool = await reader();
      await spool.queue(QUEUE).configure({ visibilityTimeoutMs: VISIBILITY_MS, maxAttempts: 1000, maxStalls: 100 });
      await Promise.all(workers.map((w) => w.start()));
      await Promise.all(producers.map((p) => p.start()));
    },
    async dispose() {
      await Promise.all(all.filter((p) => p !== postgres && p.alive()).map((p) => p.signal('SIGKILL')));
      for (const r of [...relays.values()].flat()) await r.close();
      for (const r of readers) await r.close().catch(() => {});
      readers = [];
      await postgres?.destroy();
      await pair?.destroy();
      if (disk) disk.dispose();
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}
