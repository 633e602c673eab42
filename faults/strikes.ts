/**
 * How each kind of fault strikes one cycle of a session: what the runner does to the
 * deployment, and the state it waits for before the fault ends. Every wait is for a state (an
 * event in the history, a value read from the store), bounded by a generous deadline; the only
 * timed pauses are the schedule's own (how long a process stays down, a producer cut off).
 * Each strike returns when the struck part was back (a restarted process ready, a healed path),
 * and the client it struck: the session then waits for an add and an ack confirmed after that
 * moment, the add by the struck producer itself, the ack by the struck worker itself.
 */
import type { Deployment } from './deployments.ts';
import type { DeliveredEvent } from './events.ts';
import type { ClientProcess, History } from './processes.ts';
import type { Cycle, FaultKind } from './schedules/random.ts';

/** Longest any one state may take to come about (a broker restart, a failover, a drain) on a loaded machine. */
export const STATE_WAIT_MS = 60_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `cond` (a read of the store) holds, asking every 100 ms; fails after STATE_WAIT_MS. */
export async function untilStore(cond: () => Promise<boolean>, what: () => string): Promise<void> {
  const deadline = Date.now() + STATE_WAIT_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${STATE_WAIT_MS} ms waiting for ${what()}`);
    await sleep(100);
  }
}

export interface StrikeContext {
  d: Deployment;
  cycle: Cycle;
  /** The runner's handle on the store (maintenance off). */
  reader: Awaited<ReturnType<Deployment['reader']>>;
  /** Counts a stop that caught a worker holding the SQLite write lock (see {@link holdWorker}). */
  lockStall(): void;
}

export interface Struck {
  /** When the struck part was back. */
  backAt: number;
  /** The client struck, if a client was. */
  client: ClientProcess | null;
}

type Strike = (c: StrikeContext) => Promise<Struck>;

/** Deliveries to `worker`'s current incarnation that it has not yet written an ack outcome for. */
function inFlight(history: History, worker: ClientProcess): DeliveredEvent[] {
  const open = new Map<string, DeliveredEvent>();
  for (const e of history.events) {
    if (e.type === 'delivered' && e.proc === worker.proc) open.set(`${e.jobId}/${e.token}`, e);
    if (e.type === 'completed' && e.proc === worker.proc) open.delete(`${e.jobId}/${e.token}`);
  }
  return [...open.values()];
}

/**
 * A worker stopped (SIGSTOP) or cut off while it holds jobs, until none of them is still leased
 * to it, so its acks come late; then it runs again (or the path heals) and its late acks must
 * come back with an outcome (refused as stale, unless its lease was somehow still its own).
 */
const holdWorker = (how: 'stop' | 'partition'): Strike => async ({ d, cycle, reader, lockStall }) => {
  const { history } = d;
  const worker = d.workers[cycle.target % d.workers.length]!;
  const at = Date.now();
  await history.until(() => inFlight(history, worker).length > 0, STATE_WAIT_MS, () => `${worker.proc} to hold a job`);
  if (how === 'stop') await worker.signal('SIGSTOP');
  else d.partition(worker, cycle.how, cycle.delayMs);
  const held = inFlight(history, worker);
  // Past its leases: no job it held is still leased to it in the store (taken back and run
  // elsewhere; or completed, when its ack went through just before the fault, or through a
  // delayed path). On one SQLite file, a process stopped inside a write transaction holds the
  // database lock: nobody can write (nor reap) until it runs again. Seen as another client's
  // write refused for the lock, that ends the stop too (its late acks are then accepted: no
  // other lease took the jobs).
  let stalled = false;
  await untilStore(async () => {
    stalled = history.events.some((e) => e.at >= at && (e.type === 'add' || e.type === 'completed') && 'error' in e && /database lock/.test(e.error ?? ''));
    if (stalled) return true;
    const jobs = await Promise.all(held.map((h) => reader.get(h.jobId)));
    return jobs.every((j, k) => j.state !== 'active' || j.leaseToken !== held[k]!.token);
  }, () => `the jobs ${worker.proc} held to be taken back`);
  if (stalled) lockStall();
  if (how === 'stop') await worker.signal('SIGCONT');
  else d.partition(worker, null);
  const backAt = Date.now();
  await history.until(
    () => held.every((h) => history.events.some((e) => e.type === 'completed' && e.proc === worker.proc && e.jobId === h.jobId && e.token === h.token)),
    STATE_WAIT_MS,
    () => `${worker.proc} to write the outcome of its late acks`,
  );
  return { backAt, client: worker };
};

/** Adds `producer`'s current incarnation has begun and not yet written an outcome for. */
function addsInFlight(history: History, producer: ClientProcess): number {
  const open = new Set<string>();
  for (const e of history.events) {
    if (e.proc !== producer.proc) continue;
    if (e.type === 'add-invoke') open.add(e.callerId);
    if (e.type === 'add') open.delete(e.callerId);
  }
  return open.size;
}

/**
 * A producer cut off (or slowed) while adds are in flight, for 0.5 to 1 s: the adds whose
 * replies were lost are sent again after the heal with the same idempotency key, so each must
 * be stored once.
 */
const partitionProducer: Strike = async ({ d, cycle }) => {
  const producer = d.producers[cycle.target % d.producers.length]!;
  await d.history.until(() => addsInFlight(d.history, producer) > 0, STATE_WAIT_MS, () => `${producer.proc} to have an add in flight`);
  d.partition(producer, cycle.how, cycle.delayMs);
  await sleep(500 + cycle.downMs);
  d.partition(producer, null);
  return { backAt: Date.now(), client: producer };
};

/** A process SIGKILLed (PostgreSQL: its immediate shutdown, see faults/postgres.ts), down a while, started again. */
const killAndRestart = (role: 'producer' | 'worker' | 'broker' | 'postgres'): Strike => async ({ d, cycle }) => {
  const targets = d.targets(role);
  const victim = targets[cycle.target % targets.length]!;
  await victim.signal('SIGKILL');
  await sleep(cycle.downMs);
  await victim.start();
  return { backAt: Date.now(), client: role === 'producer' || role === 'worker' ? (victim as ClientProcess) : null };
};

/**
 * The store's disk filled (a tmpfs, see faults/disk.ts) until a client is told an add or an
 * ack failed, kept full a while, then freed. A PostgreSQL that shut itself down on the full disk
 * is started again, as an operator would once space is back; brokers and clients must carry on
 * by themselves.
 */
const fillDisk: Strike = async ({ d, cycle }) => {
  const disk = d.disk;
  if (!disk) throw new Error('the disk-full fault needs a deployment made with smallDiskMb');
  const { history } = d;
  const at = Date.now();
  history.push({ type: 'fault', at, proc: 'runner', action: 'fill', target: 'disk', role: 'disk' });
  disk.fill();
  await history.until(
    () => history.events.some((e) => e.at >= at && ((e.type === 'add' && e.outcome !== 'ok') || (e.type === 'completed' && e.outcome === 'unknown'))),
    STATE_WAIT_MS,
    () => 'a client to be told an add or an ack failed on the full disk',
  );
  await sleep(cycle.downMs);
  disk.free();
  history.push({ type: 'fault', at: Date.now(), proc: 'runner', action: 'free', target: 'disk', role: 'disk' });
  if (d.postgres && !d.postgres.alive()) await d.postgres.start();
  return { backAt: Date.now(), client: null };
};

/**
 * One clock stepped (a broker's; embedded: the machine's, every client's) to a new offset from
 * the real time, 5 s to 10 min forward or back. Nothing is waited for: the check is that adds
 * and acks go on, and in the end that no delayed job ran early and no lease was taken back
 * early (the checker is given the lease length in these sessions).
 */
const stepClock: Strike = async ({ d, cycle }) => {
  const clock = d.clocks[cycle.target % d.clocks.length];
  if (!clock) throw new Error('the clock-step fault needs a deployment made with steppableClocks');
  const seconds = 5 + Math.floor((cycle.delayMs / 1000) * 595);
  const offsetS = (cycle.downMs % 2 === 0 ? 1 : -1) * seconds;
  const target = d.name === 'embedded' ? 'machine' : d.brokers[cycle.target % d.brokers.length]!.proc;
  d.history.push({ type: 'fault', at: Date.now(), proc: 'runner', action: 'step', target, role: d.name === 'embedded' ? 'machine' : 'broker', stepS: offsetS - clock.offsetS });
  clock.step(offsetS);
  return { backAt: Date.now(), client: null };
};

/**
 * The PostgreSQL primary killed (every process of it at once, as a machine dies) and its
 * synchronous standby promoted; the brokers, given both addresses, must find the new primary by
 * themselves. The dead node comes back as the new standby at the start of the next cycle
 * (online, from a base backup of the new primary), so every failover starts from a synchronous pair.
 */
const failover: Strike = async ({ d }) => {
  const pair = d.pair;
  if (!pair) throw new Error('the failover fault needs a deployment made with replicatedPostgres');
  if (pair.standbyUrl === null) await pair.rebuildStandby();
  const { promotedAt } = await pair.failover();
  return { backAt: promotedAt, client: null };
};

export const STRIKES: Record<FaultKind, Strike> = {
  'kill-producer': killAndRestart('producer'),
  'kill-worker': killAndRestart('worker'),
  'kill-broker': killAndRestart('broker'),
  'restart-postgres': killAndRestart('postgres'),
  'stop-worker': holdWorker('stop'),
  'partition-worker': holdWorker('partition'),
  'partition-producer': partitionProducer,
  'disk-full': fillDisk,
  'clock-step': stepClock,
  'failover-postgres': failover,
};

/** After a failed cycle: every fault ended (stopped workers continued, paths healed), so the queue can drain. */
export async function endFaults(d: Deployment, fault: FaultKind): Promise<void> {
  if (fault === 'stop-worker') for (const w of d.workers) if (w.alive()) await w.signal('SIGCONT');
  if (fault.startsWith('partition-')) for (const c of [...d.producers, ...d.workers]) d.partition(c, null);
  if (fault === 'disk-full') {
    d.disk?.free();
    if (d.postgres && !d.postgres.alive()) await d.postgres.start();
  }
}
