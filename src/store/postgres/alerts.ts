import type { AlertEvent, CheckedAlertRule } from '../../alerts/rules.ts';
import type { AlertDelivery, AlertDeliveryOutcome, AlertEvaluation, NewAlertEvent, StoredAlertRule } from '../alert-store.ts';
import { changedWhileFiring, sameDefinition, toAlertEvent, toStoredAlertRule, type AlertEventRow, type AlertRuleRow } from '../alert-rows.ts';
import type { Store } from '../store.ts';
import type { PgContext } from './cluster.ts';
import type { Executor } from './pg-client.ts';

/**
 * The alert tables of the PostgreSQL store (its alert methods delegate here). Every broker
 * sharing the schema sees the same rules; only the leader writes their state, and a webhook
 * call is claimed by one process at a time.
 */

const RULE_COLUMNS = 'id, queue, kind, threshold, for_ms, webhook, secret, state, since, value, evaluated_at, created_at, updated_at';

function insertEvent(ctx: PgContext<Store>, tx: Executor, e: NewAlertEvent, webhook: string, secret: string | null): Promise<unknown> {
  return tx.q(
    `INSERT INTO ${ctx.schema}.alert_events (rule_id, queue, kind, event, value, threshold, reason, at, webhook, secret, next_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8)`,
    [e.ruleId, e.queue, e.kind, e.event, e.value, e.threshold, e.reason, e.at, webhook, secret],
  );
}

export function alertRulePut(ctx: PgContext<Store>, rule: CheckedAlertRule, now: number, max: number): Promise<'created' | 'replaced' | 'full'> {
  const s = ctx.schema;
  return ctx.run(() => ctx.transaction(async (tx) => {
    // One writer of rules at a time: the count checked against `max` stays true until commit.
    await tx.q(`LOCK TABLE ${s}.alert_rules IN SHARE ROW EXCLUSIVE MODE`);
    const old = (await tx.q(`SELECT ${RULE_COLUMNS} FROM ${s}.alert_rules WHERE id = $1`, [rule.id]))[0] as unknown as AlertRuleRow | undefined;
    const params = [rule.id, rule.queue, rule.kind, rule.threshold, rule.forMs, rule.webhook, rule.secret, now];
    if (!old) {
      const n = (await tx.q(`SELECT count(*)::int8 AS n FROM ${s}.alert_rules`))[0]!.n as number;
      if (n >= max) return 'full';
      await tx.q(`INSERT INTO ${s}.alert_rules (id, queue, kind, threshold, for_ms, webhook, secret, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, params);
      return 'created';
    }
    const same = sameDefinition(old, rule);
    if (!same && old.state === 'firing') await insertEvent(ctx, tx, changedWhileFiring(old, 'changed', now), old.webhook, old.secret);
    await tx.q(`UPDATE ${s}.alert_rules SET queue = $2, kind = $3, threshold = $4, for_ms = $5, webhook = $6, secret = $7, updated_at = $8,
      state = CASE WHEN $9 THEN state ELSE 'ok' END, since = CASE WHEN $9 THEN since ELSE NULL END WHERE id = $1`, [...params, same]);
    return 'replaced';
  }), `save alert rule ${rule.id}`);
}

export function alertRuleDelete(ctx: PgContext<Store>, id: string, now: number): Promise<boolean> {
  return ctx.run(() => ctx.transaction(async (tx) => {
    const old = (await tx.q(`DELETE FROM ${ctx.schema}.alert_rules WHERE id = $1 RETURNING ${RULE_COLUMNS}`, [id]))[0] as unknown as AlertRuleRow | undefined;
    if (!old) return false;
    if (old.state === 'firing') await insertEvent(ctx, tx, changedWhileFiring(old, 'deleted', now), old.webhook, old.secret);
    return true;
  }), `delete alert rule ${id}`);
}

export async function alertRules(ctx: PgContext<Store>): Promise<StoredAlertRule[]> {
  const rows = await ctx.run(() => ctx.db.q(`SELECT ${RULE_COLUMNS} FROM ${ctx.schema}.alert_rules ORDER BY id`), 'read alert rules');
  return (rows as unknown as AlertRuleRow[]).map(toStoredAlertRule);
}

export function alertsEvaluated(ctx: PgContext<Store>, evaluations: readonly AlertEvaluation[], now: number, eventsMax: number): Promise<void> {
  const s = ctx.schema;
  return ctx.run(() => ctx.transaction(async (tx) => {
    for (const e of evaluations) {
      const rows = await tx.q(`UPDATE ${s}.alert_rules SET state = $1, since = $2, value = $3, evaluated_at = $4 WHERE id = $5 AND updated_at = $6 AND state = $7
        RETURNING webhook, secret`, [e.state, e.since, e.value, now, e.id, e.updatedAt, e.previous]);
      const rule = rows[0] as { webhook: string; secret: string | null } | undefined;
      if (rule && e.event) await insertEvent(ctx, tx, e.event, rule.webhook, rule.secret);
    }
    await tx.q(`DELETE FROM ${s}.alert_events WHERE delivery <> 'pending'
      AND id <= (SELECT id FROM ${s}.alert_events ORDER BY id DESC LIMIT 1 OFFSET $1)`, [eventsMax]);
  }), 'record alert evaluations');
}

export async function alertEvents(ctx: PgContext<Store>, p: { before?: number | undefined; limit: number; ruleId?: string | undefined }): Promise<AlertEvent[]> {
  const rows = await ctx.run(
    () => ctx.db.q(`SELECT * FROM ${ctx.schema}.alert_events WHERE id < $1 AND ($2::text IS NULL OR rule_id = $2) ORDER BY id DESC LIMIT $3`,
      [p.before ?? Number.MAX_SAFE_INTEGER, p.ruleId ?? null, p.limit]),
    'read alert events',
  );
  return (rows as unknown as AlertEventRow[]).map(toAlertEvent);
}

export async function alertDeliveriesClaim(ctx: PgContext<Store>, p: { now: number; leaseMs: number; limit: number }): Promise<AlertDelivery[]> {
  const s = ctx.schema;
  const rows = await ctx.run(
    () => ctx.db.q(`UPDATE ${s}.alert_events e SET next_at = $2, attempts = e.attempts + 1
      FROM (SELECT id FROM ${s}.alert_events WHERE delivery = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due
      WHERE e.id = due.id RETURNING e.*`, [p.now, p.now + p.leaseMs, p.limit]),
    'claim alert webhook calls',
  );
  return (rows as unknown as AlertEventRow[]).sort((a, b) => a.id - b.id).map((r) => ({ event: toAlertEvent(r), webhook: r.webhook, secret: r.secret }));
}

export async function alertDeliveryDone(ctx: PgContext<Store>, id: number, outcome: AlertDeliveryOutcome): Promise<void> {
  const s = ctx.schema;
  await ctx.run(
    () => outcome.ok
      ? ctx.db.q(`UPDATE ${s}.alert_events SET delivery = 'delivered', delivered_at = $1, last_error = NULL WHERE id = $2 AND delivery = 'pending'`, [outcome.at, id])
      : ctx.db.q(`UPDATE ${s}.alert_events SET delivery = CASE WHEN $1::int8 IS NULL THEN 'failed' ELSE 'pending' END, next_at = coalesce($1::int8, next_at),
          last_error = $2 WHERE id = $3 AND delivery = 'pending'`, [outcome.retryAt, outcome.error, id]),
    'record an alert webhook call',
  );
}
