// The broker's own types, for the JSDoc of the dashboard's browser modules (checked with
// `tsc -p src/dashboard`): the page reads what the API sends, so the API's model types it.
export type { AlertStatus, ConsumerInfo, Overview, OverviewHistory, QueueOverview } from '../model/overview.ts';
export type { AlertEvent } from '../alerts/types.ts';
export type { Job, JobLogLine, JobState } from '../core/job.ts';
export type { QueueCapacity } from '../model/capacity.ts';
export type { Binding, Bindings } from '../core/binding.ts';
