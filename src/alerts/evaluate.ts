/**
 * One evaluation of one rule against the live overview: pure, so the leader's service and
 * the tests run the same steps. ok → pending when the condition starts to hold; pending →
 * firing once it has held for `forMs` (at once when 0); firing → ok, with a resolution, as
 * soon as it no longer holds. Only firing and resolution are events; pending is not.
 */
import type { QueueOverview } from '../model/overview.ts';
import type { AlertEvaluation } from '../store/alert-store.ts';
import { ALERT_KINDS, type AlertRule } from './rules.ts';

export function evaluateRule(rule: AlertRule, q: QueueOverview | undefined, now: number): AlertEvaluation {
  const kind = ALERT_KINDS[rule.kind];
  const value = kind.value(q);
  const holds = kind.breached(value, rule.threshold);
  const base = { id: rule.id, updatedAt: rule.updatedAt, previous: rule.state, value };
  const event = (e: 'firing' | 'resolved', reason: string) =>
    ({ ruleId: rule.id, queue: rule.queue, kind: rule.kind, event: e, value, threshold: rule.threshold, reason, at: now });
  if (!holds) {
    return { ...base, state: 'ok', since: null, event: rule.state === 'firing' ? event('resolved', kind.describe(value, rule.threshold)) : null };
  }
  const since = rule.state === 'ok' || rule.since === null ? now : rule.since;
  if (rule.state === 'firing') return { ...base, state: 'firing', since, event: null };
  if (now - since >= rule.forMs) {
    const held = rule.forMs > 0 ? ` for ${now - since} ms` : '';
    return { ...base, state: 'firing', since, event: event('firing', kind.describe(value, rule.threshold) + held) };
  }
  return { ...base, state: 'pending', since, event: null };
}
