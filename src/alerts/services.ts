/**
 * Alerts as two background services (src/engine/services.ts): the leader evaluates every rule
 * against the overview each tick and records firings and resolutions in its fenced
 * transaction, so N brokers record one event; then, outside it, webhook calls are claimed one
 * event at a time and made, retried with backoff until delivered or out of attempts.
 */
import type { Overview } from '../model/overview.ts';
import type { Service } from '../engine/services.ts';
import type { EngineSettings } from '../engine/options.ts';
import { evaluateRule } from './evaluate.ts';
import { callWebhook } from './webhook.ts';

export interface AlertServiceDeps {
  /** The live overview the rules read (the dashboard's numbers). */
  overview(): Promise<Overview>;
  settings: EngineSettings['alerts'];
}

/** A rule's value and `evaluatedAt` are refreshed in the store at least this often, in ticks, when nothing else changed. */
const REFRESH_TICKS = 10;
/** Webhook calls one process makes at once. */
const DELIVERY_BATCH = 16;
/** Retry delays: 1 s doubling up to 5 min. */
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 5 * 60_000;

/** Evaluates every rule (leader). */
export function alertEvaluation(deps: AlertServiceDeps): Service {
  return {
    name: 'alert-rules',
    scope: 'leader',
    everyTicks: 1,
    async run(store, { now, tick }) {
      const rules = await store.alertRules();
      if (rules.length === 0) return;
      const overview = await deps.overview();
      const byQueue = new Map(overview.queues.map((q) => [q.queue, q]));
      const evaluations = rules
        .map((rule) => ({ rule, e: evaluateRule(rule, byQueue.get(rule.queue), now) }))
        .filter(({ rule, e }) => e.event !== null || e.state !== rule.state || rule.evaluatedAt === null || tick % REFRESH_TICKS === 0)
        .map(({ e }) => e);
      if (evaluations.length > 0) await store.alertsEvaluated(evaluations, now, deps.settings.eventsMax);
    },
  };
}

/** Makes the webhook calls that are due (leader, outside the transaction). */
export function alertDelivery(deps: AlertServiceDeps): Service {
  const { webhookTimeoutMs, deliveryAttempts } = deps.settings;
  return {
    name: 'alert-webhooks',
    scope: 'upkeep',
    everyTicks: 1,
    async run(store, { now }) {
      // Claimed for longer than a call can take, so no other process calls the same event meanwhile.
      const due = await store.alertDeliveriesClaim({ now, leaseMs: webhookTimeoutMs + 5000, limit: DELIVERY_BATCH });
      await Promise.all(due.map(async (d) => {
        const error = await callWebhook(d, webhookTimeoutMs);
        const at = now;
        if (error === null) return store.alertDeliveryDone(d.event.id, { ok: true, at });
        const retryAt = d.event.attempts >= deliveryAttempts ? null : now + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (d.event.attempts - 1));
        return store.alertDeliveryDone(d.event.id, { ok: false, at, error, retryAt });
      }));
    },
  };
}
