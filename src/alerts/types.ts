/** The types of alert rules and events (kept apart from rules.ts, which checks them, so the dashboard's type check needs no Node module). */

/** What a rule watches. */
export type AlertKind = 'oldestReadyAge' | 'deadLetters' | 'deadRate' | 'utilisation' | 'noWorkers';

/** Where a rule stands: its condition does not hold, holds for less than `forMs`, or fired. */
export type AlertState = 'ok' | 'pending' | 'firing';

/** A rule as it is given to `setAlert`. */
export interface AlertRuleInput {
  /** The rule's name: 1–64 letters, digits, '.', '_' or '-'. Setting a rule with an existing id replaces it. */
  id: string;
  queue: string;
  kind: AlertKind;
  /** The level the value must exceed: ms for `oldestReadyAge`, dead jobs for `deadLetters`, jobs/s for `deadRate`, ρ for `utilisation`; `noWorkers` takes none. */
  threshold?: number;
  /** How long the condition must hold before the rule fires, in ms. Default 0: at once. */
  forMs?: number;
  /** Where firing and resolution are POSTed: an http(s) URL. */
  webhook: string;
  /** When set, each webhook call carries `Spool-Signature: sha256=<hex HMAC-SHA256 of the body>` made with it. */
  secret?: string;
}

/** A rule as it is read back: its definition (never its secret) and where it stands. */
export interface AlertRule {
  id: string;
  queue: string;
  kind: AlertKind;
  threshold: number;
  forMs: number;
  webhook: string;
  /** Whether webhook calls are signed. */
  signed: boolean;
  state: AlertState;
  /** Since when the condition has held (pending or firing); null when ok. */
  since: number | null;
  /** The value the last evaluation read; null before the first. */
  value: number | null;
  /** When the leader last evaluated it; null before the first time. */
  evaluatedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** One firing or resolution, as recorded and sent. */
export interface AlertEvent {
  /** Increasing: newer events have larger ids. */
  id: number;
  ruleId: string;
  queue: string;
  kind: AlertKind;
  event: 'firing' | 'resolved';
  /** The value that made it fire or resolve (null when the rule was changed or deleted while firing). */
  value: number | null;
  threshold: number;
  /** In words, e.g. `the oldest ready job has waited 65000 ms (threshold 60000 ms)`. */
  reason: string;
  at: number;
  /** The webhook call: `pending` (not yet made, or to be tried again), `delivered`, or `failed` after its last attempt. */
  delivery: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  deliveredAt: number | null;
}
