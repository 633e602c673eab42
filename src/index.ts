/**
 * Spool: a durable task and message queue for TypeScript.
 * @example
 * import { Spool } from 'spool-queue';
 * const spool = await Spool.open();                       // embedded: SQLite in ./spool-data
 * await spool.queue('emails').add({ to: 'a@example.com' });
 * const remote = await Spool.connect('ws://127.0.0.1:7600'); // a broker: the same API
 * @module spool-queue
 */
import { connect } from './client/connect.ts';
import { Spool as EmbeddedSpool, type OpenOptions } from './engine/spool.ts';

/** An embedded Spool: the engine in this process, over its store. */
export type Spool = EmbeddedSpool;
/**
 * `Spool.open()` runs the engine in this process; `Spool.connect()` talks to brokers. Both
 * give a {@link SpoolClient}: the same queue, worker and job API.
 */
export const Spool = {
  /** Opens a Spool on a store (default: SQLite in `./spool-data`). @see EmbeddedSpool.open */
  open: (options?: OpenOptions): Promise<EmbeddedSpool> => EmbeddedSpool.open(options),
  connect,
};
export type { OpenOptions } from './engine/spool.ts';
/** The class behind `Spool.open()`: every method of an embedded Spool. */
export type { EmbeddedSpool };
export type { HealthStatus } from './core/health.ts';
export type { ConnectionOptions } from './client/connection.ts';
export type { AddItem, AlertEventsOptions, BulkAction, BulkResult, JobFilter, JobPage, ListOptions, PayloadFilter, QueueDeleted, SpoolClient, SpoolOperations } from './api/contract.ts';
export { Queue } from './api/queue.ts';
// The remote client loads on the first Spool.connect; the broker is its own entry point
// (`spool-queue/server`), so an embedded Spool does not load a web server.
export type { RemoteSpool, ConnectOptions } from './client/remote-spool.ts';
export { Worker, WorkerShutdownError, type Handler, type JobContext, type RunningJob, type WorkerOptions } from './worker/worker.ts';
export type { ConsumerApi, ConsumerOwner, Subscription, SubscriptionHandlers } from './worker/consumer.ts';
export type { Overview, OverviewHistory, QueueOverview, QueueModel, ConsumerInfo, ProcessInfo, ProcessStatus, AlertStatus } from './model/overview.ts';
export type { Tags } from './core/tags.ts';
export { Telemetry, type QueueCounts, type TelemetryListener } from './engine/telemetry.ts';
export { erlangC, meanQueueWaitMs, workersFor, MMC_ASSUMPTIONS } from './model/queueing.ts';
export * from './core/errors.ts';
export type { Job, JobState, Lease, QueueStats, AttemptRecord, AttemptOutcome, DeadReason, JobLogLine, JobReport, JobTrace } from './core/job.ts';
export type { QueueConfig, QueueConfigInput, Backoff, RateLimit, RateLimitInput, KeyRateLimit, KeyRateLimitInput, Overflow, QueueBound, JobOrder, SchedulingPolicy, ConcurrencyRule } from './core/queue-config.ts';
export type { AddOptions } from './core/add-options.ts';
export type { DrainedOptions } from './core/drained.ts';
export type { RequestOptions, WaitJobOptions } from './core/request.ts';
export type { PublishOptions, Published, Binding, Bindings } from './core/publish.ts';
export type { FlowInput, FlowChildInput, FlowJobOptions, FlowRule, AddedFlow, Flow, FlowChild, FlowState, ChildResult, ChildOutcome } from './core/flow.ts';
export { EXPIRED_ERROR, DROPPED_ERROR } from './core/job.ts';
export { LIMITS } from './core/limits.ts';
export { ManualClock, systemClock, type Clock } from './core/clock.ts';
export type {
  Store, WorkerRegistration, ConsumerAnnouncement, StoreCapabilities, NewJobRow, InsertExisting, Duplicate, InsertReport, ClaimParams, CompleteItem, FailItem, ReportItem, ExtendItem, ShortenItem, LeaseMiss,
  LeaseResult, FailResult, ExtendResult, ItemOutcome, CancelResult, RetryResult, DeleteResult, QueueDeleteParams, QueueDeleteResult,
  ReapedJob, ListParams, SearchParams, SearchPage, PayloadMatch, TokenRow, NewTokenRow, TokenInfo, TokenUse, StoredQueue,
  ProcessSnapshot, ProcessSnapshots, CountsByQueue, RateBucket, RateTaken, ClaimedJobs, PublishItem, PublishOutcome, RoutingRow, StoredBinding,
} from './store/store.ts';
export type { KeyRateRule, RateParams } from './store/rate-bucket.ts';
export type { AlertStore, StoredAlertRule, NewAlertEvent, AlertEvaluation, AlertDelivery, AlertDeliveryOutcome } from './store/alert-store.ts';
export type { AlertKind, AlertState, AlertRuleInput, AlertRule, AlertEvent } from './alerts/types.ts';
export type { CheckedAlertRule } from './alerts/rules.ts';
export type { ScheduleStore, ScheduleFiring } from './store/schedule-store.ts';
export type { FlowStore, NewFlow, StoredFlow, FlowSettled, FlowSelection } from './store/flow-store.ts';
export type { Schedule, ScheduleInput, ScheduleJobOptions, ScheduleDefinition, CatchUp } from './core/schedule.ts';
export type { AlertWebhookBody } from './alerts/webhook.ts';
export { SqliteStore, type SqliteDurability, type SqliteStoreOptions } from './store/sqlite/sqlite-store.ts';
