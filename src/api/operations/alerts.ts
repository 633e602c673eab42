/** The operation rows for alert rules and their events (see src/alerts/). */
import { checkAlertRule, type AlertEvent, type AlertRule, type AlertRuleInput } from '../../alerts/rules.ts';
import type { AlertEventsOptions } from '../contract.ts';
import * as A from '../alert-schemas.ts';
import { op } from '../operation-kit.ts';
import type { Operation, OperationContext } from '../operations.ts';
import * as S from '../schemas.ts';

/** A rule as the caller may see it: its webhook's path and query (which may hold a key) only for `admin`. */
function shown(rule: AlertRule, ctx: OperationContext): AlertRule {
  return ctx.access.can('admin') ? rule : { ...rule, webhook: new URL(rule.webhook).origin + '/…' };
}

export const ALERT_OPERATIONS = [
  op<AlertRuleInput, AlertRule>({
    name: 'setAlert', summary: 'Set an alert rule: a new id, or a replacement (a changed condition starts afresh; a firing rule changed sends its resolution)',
    description: 'Evaluated by the leader each maintenance tick against the overview; firing and resolution are recorded and POSTed to the webhook. See docs/operations.md, Alerts.',
    action: 'admin', queue: 'none',
    input: S.object({ id: A.alertId, ...A.alertRuleFields }, ['id', 'queue', 'kind', 'webhook']), output: A.alertRule,
    http: { method: 'PUT', path: '/v1/alerts/{id}' }, ws: { call: 'setAlert' },
    explain: (rule: unknown) => void checkAlertRule(rule),
    run: (host, rule) => host.setAlert(rule),
  }),
  op<Record<string, never>, { alerts: AlertRule[] }>({
    name: 'listAlerts', summary: 'Every alert rule with where it stands (ok, pending, firing), its last value and when it was evaluated',
    description: 'Lists the rules on queues the caller may read; a secret is never read back.',
    action: 'read', queue: 'self',
    input: S.object({}), output: { type: 'object', required: ['alerts'], properties: { alerts: { type: 'array', items: A.alertRule } } },
    http: { method: 'GET', path: '/v1/alerts' }, ws: { call: 'alerts' },
    async run(host, _input, ctx) {
      return { alerts: (await host.alerts()).filter((r) => ctx.access.can('read', r.queue)).map((r) => shown(r, ctx)) };
    },
  }),
  op<{ id: string }, { id: string; deleted: true }>({
    name: 'deleteAlert', summary: 'Delete an alert rule (a firing one sends its resolution)',
    action: 'admin', queue: 'none',
    input: S.object({ id: A.alertId }, ['id']),
    output: { type: 'object', required: ['id', 'deleted'], properties: { id: A.alertId, deleted: { const: true } } },
    http: { method: 'DELETE', path: '/v1/alerts/{id}', body: false }, ws: { call: 'deleteAlert' }, errors: ['ALERT_NOT_FOUND'],
    async run(host, { id }) {
      await host.deleteAlert(id);
      return { id, deleted: true };
    },
  }),
  op<AlertEventsOptions, { events: AlertEvent[] }>({
    name: 'alertEvents', summary: 'Alert firings and resolutions with their webhook delivery, newest first',
    description: 'Pages back with `before` (the last id of the previous page). Lists the events of queues the caller may read.',
    action: 'read', queue: 'self',
    input: A.alertEventsInput, output: { type: 'object', required: ['events'], properties: { events: { type: 'array', items: A.alertEvent } } },
    http: { method: 'GET', path: '/v1/alert-events', query: ['ruleId', 'before', 'limit'] }, ws: { call: 'alertEvents' },
    async run(host, input, ctx) {
      return { events: (await host.alertEvents(input)).filter((e) => ctx.access.can('read', e.queue)) };
    },
  }),
] as const satisfies readonly Operation[];
