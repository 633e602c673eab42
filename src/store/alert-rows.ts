/** The alert tables' rows as both drivers read them, and what both decide the same way. */
import type { AlertEvent, AlertKind, AlertState, CheckedAlertRule } from '../alerts/rules.ts';
import type { NewAlertEvent, StoredAlertRule } from './alert-store.ts';

export interface AlertRuleRow {
  id: string;
  queue: string;
  kind: AlertKind;
  threshold: number;
  for_ms: number;
  webhook: string;
  secret: string | null;
  state: AlertState;
  since: number | null;
  value: number | null;
  evaluated_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface AlertEventRow {
  id: number;
  rule_id: string;
  queue: string;
  kind: AlertKind;
  event: 'firing' | 'resolved';
  value: number | null;
  threshold: number;
  reason: string;
  at: number;
  webhook: string;
  secret: string | null;
  delivery: AlertEvent['delivery'];
  attempts: number;
  next_at: number;
  last_error: string | null;
  delivered_at: number | null;
}

export function toStoredAlertRule(r: AlertRuleRow): StoredAlertRule {
  return {
    id: r.id, queue: r.queue, kind: r.kind, threshold: r.threshold, forMs: r.for_ms, webhook: r.webhook, signed: r.secret !== null, secret: r.secret,
    state: r.state, since: r.since, value: r.value, evaluatedAt: r.evaluated_at, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export function toAlertEvent(r: AlertEventRow): AlertEvent {
  return {
    id: r.id, ruleId: r.rule_id, queue: r.queue, kind: r.kind, event: r.event, value: r.value, threshold: r.threshold, reason: r.reason, at: r.at,
    delivery: r.delivery, attempts: r.attempts, lastError: r.last_error, deliveredAt: r.delivered_at,
  };
}

/** Whether a replacement keeps the rule's condition: same queue, kind, threshold and `forMs` (webhook and secret may change). */
export function sameDefinition(old: AlertRuleRow, rule: CheckedAlertRule): boolean {
  return old.queue === rule.queue && old.kind === rule.kind && old.threshold === rule.threshold && old.for_ms === rule.forMs;
}

/** The resolution recorded when a firing rule is changed or deleted: nothing will resolve it otherwise. */
export function changedWhileFiring(old: AlertRuleRow, how: 'changed' | 'deleted', now: number): NewAlertEvent {
  return { ruleId: old.id, queue: old.queue, kind: old.kind, event: 'resolved', value: null, threshold: old.threshold, reason: `the rule was ${how} while firing`, at: now };
}
