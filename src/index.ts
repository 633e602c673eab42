/**
 * Spool: a durable task and message queue for TypeScript.
 * @example
 * import { Spool } from 'spool-queue';
 * const spool = await Spool.open();
 * await spool.queue('emails').add({ to: 'a@example.com' });
 */
export { Spool, type OpenOptions, type AddItem, type ListOptions } from './engine/spool.ts';
export { Queue, type SpoolApi } from './engine/queue.ts';
// The remote client loads on the first Spool.connect; the broker is its own entry point
// (`spool-queue/server`), so an embedded Spool does not load a web server.
export type { RemoteSpool, ConnectOptions } from './client/remote-spool.ts';
export { Worker, WorkerShutdownError, type Handler, type JobContext, type WorkerOptions } from './worker/worker.ts';
export type { ConsumerApi, Subscription, SubscriptionHandlers } from './worker/consumer.ts';
export * from './core/errors.ts';
export type { Job, JobState, Lease, QueueStats, AttemptRecord, AttemptOutcome, DeadReason } from './core/job.ts';
export type { QueueConfig, QueueConfigInput, Backoff } from './core/queue-config.ts';
export type { AddOptions } from './core/validate.ts';
export { LIMITS } from './core/limits.ts';
export { ManualClock, systemClock, type Clock } from './core/clock.ts';
export type { Store } from './store/store.ts';
export { SqliteStore, type SqliteDurability } from './store/sqlite/sqlite-store.ts';
