import type { QueueStats } from '../core/job.ts';
import type { AlertRule } from '../alerts/types.ts';

/**
 * The live queueing model of one queue (Little's law, L = λ·W), measured over a sliding window
 * from the counts of every process sharing the store (each publishes its own, see
 * src/engine/cluster-view.ts). Rates are per second; null where the window holds too little to say.
 */
export interface QueueModel {
  /** The window the rates are measured over, in ms (shorter while the process serving it is young). */
  windowMs: number;
  /** λ: jobs added per second. */
  arrivalRate: number;
  /** μ: jobs completed per second. */
  completionRate: number;
  /** Failed attempts (retried or dead) per second. */
  failureRate: number;
  /** Jobs that went dead (out of attempts, unrecoverable, or poison) per second: dead letters added. */
  deadRate: number;
  /** Mean time a handler ran per finished attempt, in ms; null before one finished in the window. */
  serviceTimeMs: number | null;
  /** c: worker slots consuming from the queue through every live process (the concurrency of their subscribers). */
  workers: number;
  /** ρ = λ·S / c: the share of the workers' time the arrivals need; null without workers or a service time. */
  utilisation: number | null;
  /** L: jobs in the system, ready and active. */
  length: number;
  /**
   * W: mean time from add to completion of the jobs completed in the window; with none completed,
   * Little's law's L / λ; null when nothing arrives or completes.
   */
  meanWaitMs: number | null;
  /** Time to drain the ready jobs at the current rates, ready / (μ − λ); null when μ ≤ λ. */
  drainEtaMs: number | null;
  /** Waiting jobs dropped per second by adds to the queue while full (bounded, overflow `drop-oldest`). */
  dropRate: number;
  /** Waiting jobs dropped so far by adds to the full queue, summed over every process sharing the store (as long as they have counted). */
  dropped: number;
}

/** One queue in the overview: its stats and its model. */
export interface QueueOverview extends QueueStats {
  model: QueueModel;
}

/** A Spool process sharing the store: a broker, or a program with Spool embedded. */
export interface ProcessInfo {
  /** Its id in the store (its registration id on PostgreSQL). */
  id: string;
  host: string;
  pid: number;
}

/** A consumer connected to one of the processes sharing the store. */
export interface ConsumerInfo {
  /** The connection's id (it starts with its broker's id), or `in-process` for the workers of the process serving the overview. */
  id: string;
  /** What the client called itself in hello (unchecked), e.g. `spool-worker@host`. */
  client: string;
  /** The tags it gave itself (`Spool.connect({ tags })`); none for in-process workers. */
  tags: Readonly<Record<string, string>>;
  /** The client's address. */
  address: string;
  /** Queues it subscribes to, each with its slots (credits granted in all) and jobs it holds now. */
  queues: { queue: string; slots: number; inFlight: number }[];
  connectedAt: number;
  /** The last frame received from it (as its process last published it, for another process's consumer). */
  lastSeenAt: number;
  /** The process it is connected to (a broker), or whose workers it is. */
  process: ProcessInfo;
}

/** A live process sharing the store, as the overview lists it (the Workers view's brokers). */
export interface ProcessStatus extends ProcessInfo {
  /** When it last published its snapshot (about once a second while busy, every 5 s at least). */
  lastSeenAt: number;
  /** Whether it led the store's upkeep at its last tick (on PostgreSQL one process leads; on SQLite each process runs its own). */
  leader: boolean;
  /** Consumers connected to it (its clients, or its in-process workers as one). */
  consumers: number;
}

/** Where an alert rule stands, as the overview carries it (the rule's webhook stays out: see `alerts()`). */
export type AlertStatus = Pick<AlertRule, 'id' | 'queue' | 'kind' | 'threshold' | 'forMs' | 'state' | 'since' | 'value' | 'evaluatedAt'>;

/** What the dashboard and `spool top` show, aggregated by the broker at most once a second, over every process sharing the store. */
export interface Overview {
  /** When it was aggregated (epoch ms). */
  at: number;
  queues: QueueOverview[];
  consumers: ConsumerInfo[];
  /** The live processes sharing the store (brokers, embedded programs), this one first. */
  processes: ProcessStatus[];
  /** Every alert rule and where it stands, as the leader last evaluated it. */
  alerts: AlertStatus[];
}

/** The recent past of the overview for charts: one point per `stepMs`, oldest first, per queue. */
export interface OverviewHistory {
  stepMs: number;
  at: number[];
  queues: Record<string, { ready: number[]; active: number[]; arrivalRate: number[]; completionRate: number[]; failureRate: number[] }>;
}
