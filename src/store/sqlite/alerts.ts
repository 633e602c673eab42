import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { CheckedAlertRule } from '../../alerts/rules.ts';
import type { AlertDelivery, AlertDeliveryOutcome, AlertEvaluation, NewAlertEvent, StoredAlertRule } from '../alert-store.ts';
import { toAlertEvent, toStoredAlertRule, sameDefinition, changedWhileFiring, type AlertEventRow, type AlertRuleRow } from '../alert-rows.ts';
import type { GroupCommit } from './group-commit.ts';
import { prepare } from './prepare.ts';

type Name = 'get' | 'insert' | 'replace' | 'count' | 'delete' | 'list' | 'evaluated' | 'event' | 'prune' | 'events' | 'eventsOfRule' | 'due' | 'claim' | 'delivered' | 'failed';

/**
 * The alert tables of the SQLite store (its alert methods delegate here). Writes go through
 * the group commit, like every other write; reads run directly.
 */
export class SqliteAlerts {
  readonly #group: GroupCommit;
  readonly #s: Record<Name, StatementSync>;

  constructor(db: DatabaseSync, group: GroupCommit) {
    this.#group = group;
    this.#s = {
      get: db.prepare(`SELECT * FROM alert_rules WHERE id = ?`),
      insert: db.prepare(`INSERT INTO alert_rules (id, queue, kind, threshold, for_ms, webhook, secret, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      // A changed definition starts afresh; the same one keeps where it stands (a new webhook or secret is not a change of condition).
      replace: db.prepare(`UPDATE alert_rules SET queue = ?2, kind = ?3, threshold = ?4, for_ms = ?5, webhook = ?6, secret = ?7, updated_at = ?8,
        state = CASE WHEN ?9 THEN state ELSE 'ok' END, since = CASE WHEN ?9 THEN since ELSE NULL END WHERE id = ?1`),
      count: db.prepare(`SELECT count(*) AS n FROM alert_rules`),
      delete: db.prepare(`DELETE FROM alert_rules WHERE id = ?`),
      list: db.prepare(`SELECT * FROM alert_rules ORDER BY id`),
      evaluated: db.prepare(`UPDATE alert_rules SET state = ?, since = ?, value = ?, evaluated_at = ? WHERE id = ? AND updated_at = ? AND state = ?`),
      event: db.prepare(`INSERT INTO alert_events (rule_id, queue, kind, event, value, threshold, reason, at, webhook, secret, next_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      prune: prepare(db, `DELETE FROM alert_events WHERE delivery <> 'pending'
        AND id <= (SELECT id FROM alert_events ORDER BY id DESC LIMIT 1 OFFSET ?)`),
      events: prepare(db, `SELECT * FROM alert_events WHERE id < ? ORDER BY id DESC LIMIT ?`),
      eventsOfRule: prepare(db, `SELECT * FROM alert_events WHERE rule_id = ? AND id < ? ORDER BY id DESC LIMIT ?`),
      due: prepare(db, `SELECT * FROM alert_events WHERE delivery = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`),
      claim: db.prepare(`UPDATE alert_events SET next_at = ?, attempts = attempts + 1 WHERE id = ? AND delivery = 'pending' AND next_at <= ?`),
      delivered: db.prepare(`UPDATE alert_events SET delivery = 'delivered', delivered_at = ?, last_error = NULL WHERE id = ? AND delivery = 'pending'`),
      failed: db.prepare(`UPDATE alert_events SET delivery = CASE WHEN ?1 IS NULL THEN 'failed' ELSE 'pending' END, next_at = coalesce(?1, next_at), last_error = ?2
        WHERE id = ?3 AND delivery = 'pending'`),
    };
  }

  put(rule: CheckedAlertRule, now: number, max: number): Promise<'created' | 'replaced' | 'full'> {
    return this.#group.submit(() => {
      const old = this.#s.get.get(rule.id) as unknown as AlertRuleRow | undefined;
      if (!old) {
        if ((this.#s.count.get() as { n: number }).n >= max) return 'full';
        this.#s.insert.run(rule.id, rule.queue, rule.kind, rule.threshold, rule.forMs, rule.webhook, rule.secret, now, now);
        return 'created';
      }
      const same = sameDefinition(old, rule);
      if (!same && old.state === 'firing') this.#insertEvent(changedWhileFiring(old, 'changed', now), old.webhook, old.secret);
      this.#s.replace.run(rule.id, rule.queue, rule.kind, rule.threshold, rule.forMs, rule.webhook, rule.secret, now, same ? 1 : 0);
      return 'replaced';
    });
  }

  delete(id: string, now: number): Promise<boolean> {
    return this.#group.submit(() => {
      const old = this.#s.get.get(id) as unknown as AlertRuleRow | undefined;
      if (!old) return false;
      if (old.state === 'firing') this.#insertEvent(changedWhileFiring(old, 'deleted', now), old.webhook, old.secret);
      this.#s.delete.run(id);
      return true;
    });
  }

  async list(): Promise<StoredAlertRule[]> {
    return (this.#s.list.all() as unknown as AlertRuleRow[]).map(toStoredAlertRule);
  }

  evaluated(evaluations: readonly AlertEvaluation[], now: number, eventsMax: number): Promise<void> {
    return this.#group.submit(() => {
      for (const e of evaluations) {
        const changed = this.#s.evaluated.run(e.state, e.since, e.value, now, e.id, e.updatedAt, e.previous).changes;
        if (changed === 1 && e.event) {
          const rule = this.#s.get.get(e.id) as unknown as AlertRuleRow;
          this.#insertEvent(e.event, rule.webhook, rule.secret);
        }
      }
      this.#s.prune.run(eventsMax);
    });
  }

  async events(p: { before?: number | undefined; limit: number; ruleId?: string | undefined }): Promise<ReturnType<typeof toAlertEvent>[]> {
    const before = p.before ?? Number.MAX_SAFE_INTEGER;
    const rows = p.ruleId === undefined ? this.#s.events.all(before, p.limit) : this.#s.eventsOfRule.all(p.ruleId, before, p.limit);
    return (rows as unknown as AlertEventRow[]).map(toAlertEvent);
  }

  claim(p: { now: number; leaseMs: number; limit: number }): Promise<AlertDelivery[]> {
    return this.#group.submit(() => {
      const out: AlertDelivery[] = [];
      for (const row of this.#s.due.all(p.now, p.limit) as unknown as AlertEventRow[]) {
        if (this.#s.claim.run(p.now + p.leaseMs, row.id, p.now).changes !== 1) continue;
        out.push({ event: toAlertEvent({ ...row, attempts: row.attempts + 1 }), webhook: row.webhook, secret: row.secret });
      }
      return out;
    });
  }

  done(id: number, outcome: AlertDeliveryOutcome): Promise<void> {
    return this.#group.submit(() => {
      if (outcome.ok) this.#s.delivered.run(outcome.at, id);
      else this.#s.failed.run(outcome.retryAt, outcome.error, id);
    });
  }

  #insertEvent(e: NewAlertEvent, webhook: string, secret: string | null): void {
    this.#s.event.run(e.ruleId, e.queue, e.kind, e.event, e.value, e.threshold, e.reason, e.at, webhook, secret, e.at);
  }
}
