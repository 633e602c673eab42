/**
 * The history a fault run records: one JSON object a line, appended by the clients (adds,
 * deliveries, acks) and by the runner (faults). Every event carries the wall-clock time it
 * was written (`at`, Unix ms; every process runs on this machine) and the process that wrote
 * it (`proc`: a name and an incarnation, e.g. `worker-1#2`).
 */

/** A producer is about to call add() for this caller id (written before the call, so a kill mid-call leaves a trace). */
export interface AddInvoke { type: 'add-invoke'; at: number; proc: string; callerId: string; /** The add's delay, if it has one. */ delayMs?: number }

/** How an add ended: confirmed with the job's id, refused with an error code, or unknown (the connection or the store went away first). */
export type AddOutcome =
  | { outcome: 'ok'; jobId: string }
  | { outcome: 'refused'; code: string }
  | { outcome: 'unknown'; error: string };
export type AddEvent = { type: 'add'; at: number; proc: string; callerId: string } & AddOutcome;

/** A worker was handed a job. `callerId` comes from the payload. */
export interface DeliveredEvent { type: 'delivered'; at: number; proc: string; jobId: string; callerId: string | null; attempt: number; token: number }

/**
 * How a worker's ack ended: `ok` (the store confirmed it), `stale` (refused: the lease is no
 * longer held) or `unknown` (no answer: the connection or the store went away).
 */
export interface CompletedEvent { type: 'completed'; at: number; proc: string; jobId: string; token: number; outcome: 'ok' | 'stale' | 'unknown'; error?: string }

/**
 * What the runner did to a process: SIGKILL (for PostgreSQL: its immediate shutdown), SIGSTOP,
 * SIGCONT, a (re)start, or a network partition of it and its end, a step of its wall clock; or to the store's disk: filled, freed. `ready` follows each `start`
 * once the process is back: a broker printed its serving line, PostgreSQL accepts connections;
 * a client has no such line, so its `ready` is written as soon as it is spawned.
 */
export interface FaultMarker {
  type: 'fault';
  at: number;
  proc: 'runner';
  action: 'kill' | 'stop' | 'cont' | 'start' | 'ready' | 'partition' | 'heal' | 'fill' | 'free' | 'step';
  target: string;
  role: Role;
  /** A partition's kind: bytes dropped both ways, replies dropped, connections reset, or bytes delayed (test/support/relay.ts). */
  how?: 'drop' | 'replies' | 'reset' | 'delay';
  /** A clock step's size, seconds (forward when positive). */
  stepS?: number;
}

/** `disk`: the filesystem the store lives on (the disk-full fault fills it, then frees it); `machine`: the clock every embedded client runs on. */
export type Role = 'producer' | 'worker' | 'broker' | 'postgres' | 'disk' | 'machine';
export type HistoryEvent = AddInvoke | AddEvent | DeliveredEvent | CompletedEvent | FaultMarker;

/** One job as the final read of the store found it. */
export interface StoredJob { id: string; callerId: string | null; state: string; leaseToken: number }
