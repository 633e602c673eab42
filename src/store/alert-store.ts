/**
 * The alert tables of a store: rules with where each stands, and the events they recorded
 * with their webhook delivery. Part of {@link Store}; kept apart because it is its own subject.
 */
import type { AlertEvent, AlertRule, AlertState, CheckedAlertRule } from '../alerts/rules.ts';

/** A rule as stored: what is read back, plus its secret. */
export interface StoredAlertRule extends AlertRule {
  secret: string | null;
}

/** A firing or resolution to record (the store adds its id and delivery, and copies the rule's webhook, so a deleted rule's last event is still sent). */
export type NewAlertEvent = Pick<AlertEvent, 'ruleId' | 'queue' | 'kind' | 'event' | 'value' | 'threshold' | 'reason' | 'at'>;

/** What the leader's evaluation found for one rule. */
export interface AlertEvaluation {
  id: string;
  /** The rule's `updatedAt` as the evaluation read it: a rule replaced since is left alone. */
  updatedAt: number;
  /** The state the evaluation read: if another process changed it since, this evaluation is dropped (no event is recorded twice). */
  previous: AlertState;
  state: AlertState;
  since: number | null;
  value: number;
  /** The event this evaluation records, if the rule fired or resolved. */
  event: NewAlertEvent | null;
}

/** A recorded event whose webhook call is due, claimed by one process for `leaseMs`. */
export interface AlertDelivery {
  event: AlertEvent;
  webhook: string;
  secret: string | null;
}

/** The outcome of one webhook call. */
export type AlertDeliveryOutcome =
  | { ok: true; at: number }
  /** `retryAt` null: that was the last attempt; the event is marked failed. */
  | { ok: false; at: number; error: string; retryAt: number | null };

export interface AlertStore {
  /**
   * Saves a rule (a new id, or a replacement). A replacement with another definition starts
   * afresh (state ok); if the rule was firing, a `resolved` event saying so is recorded in the
   * same transaction. A new rule beyond `max` rules is refused.
   */
  alertRulePut(rule: CheckedAlertRule, now: number, max: number): Promise<'created' | 'replaced' | 'full'>;
  /** Deletes a rule (recording a `resolved` event if it was firing). False when there was none. */
  alertRuleDelete(id: string, now: number): Promise<boolean>;
  /** Every rule, by id. */
  alertRules(): Promise<StoredAlertRule[]>;
  /**
   * Records the leader's evaluation: each rule's state (unless it was replaced since it was
   * read) and, with it, its event; then deletes the oldest events that are not pending beyond
   * the newest `eventsMax`.
   */
  alertsEvaluated(evaluations: readonly AlertEvaluation[], now: number, eventsMax: number): Promise<void>;
  /** Events, newest first: those with an id below `before`, of one rule if `ruleId`. */
  alertEvents(p: { before?: number | undefined; limit: number; ruleId?: string | undefined }): Promise<AlertEvent[]>;
  /** Claims up to `limit` pending events due at `now` for `leaseMs` (no other process gets them meanwhile), oldest first. */
  alertDeliveriesClaim(p: { now: number; leaseMs: number; limit: number }): Promise<AlertDelivery[]>;
  /** Records a webhook call's outcome for event `id`. */
  alertDeliveryDone(id: number, outcome: AlertDeliveryOutcome): Promise<void>;
}
