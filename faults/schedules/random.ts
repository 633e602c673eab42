/**
 * A seeded, replayable random fault schedule: the same seed, deployment and fault kind give the
 * same cycles (when each fault strikes, which process it hits, how long before the restart).
 * What the system does in between is not replayed: it runs on real processes and real time.
 */
import type { DeploymentName } from '../deployments.ts';
import { PATH_FAULTS, type PathFault } from '../../test/support/relay.ts';

export const FAULT_KINDS = ['kill-producer', 'kill-worker', 'kill-broker', 'stop-worker', 'partition-worker', 'partition-producer', 'restart-postgres', 'disk-full', 'clock-step', 'failover-postgres'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * The fault kinds a deployment has processes for (the embedded one has no broker, and no network
 * to partition; only the PostgreSQL one has a PostgreSQL to stop).
 */
export function faultsOf(deployment: DeploymentName): FaultKind[] {
  return FAULT_KINDS.filter((f) => {
    if (f === 'restart-postgres' || f === 'failover-postgres') return deployment === 'brokers-postgres';
    return deployment !== 'embedded' || (f !== 'kill-broker' && !f.startsWith('partition-'));
  });
}

/** The fault kinds whose brokers-postgres session runs a PostgreSQL of its own (stopped, or on a small disk), never the shared one. */
export const OWN_POSTGRES_FAULTS: readonly FaultKind[] = ['restart-postgres', 'disk-full', 'failover-postgres'];

/** The fault kinds that kill a process (or stop PostgreSQL) and start it again: their table row has a time back after the restart. */
export const RESTART_FAULTS: readonly FaultKind[] = ['kill-producer', 'kill-broker', 'restart-postgres', 'failover-postgres'];

export interface Cycle {
  /** How long the system runs before the fault strikes. */
  runMs: number;
  /** Which of the processes of the fault's role it hits (an index, taken modulo their number). */
  target: number;
  /** How long the killed process (or the stopped PostgreSQL) stays down before it is started again; how long a producer stays partitioned. */
  downMs: number;
  /** A partition's kind (partition faults): bytes dropped both ways, replies dropped, connections reset, bytes delayed. */
  how: PathFault;
  /** For `how: 'delay'`: how long each byte is held back, ms. */
  delayMs: number;
}

/** mulberry32: a small seeded PRNG, [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The cycles for one deployment and fault kind: each run of the schedule draws from its own stream of the seed. */
export function schedule(seed: number, deployment: DeploymentName, fault: FaultKind, cycles: number): Cycle[] {
  const random = prng(seed ^ hash(`${deployment}/${fault}`));
  return Array.from({ length: cycles }, () => ({
    runMs: 200 + Math.floor(random() * 1000),
    target: Math.floor(random() * 1000),
    downMs: Math.floor(random() * 500),
    how: PATH_FAULTS[Math.floor(random() * PATH_FAULTS.length)]!,
    delayMs: 100 + Math.floor(random() * 900),
  }));
}
