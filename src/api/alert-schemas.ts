/** JSON Schemas of the alert operations (operations/alerts.ts); the rules are checked by src/alerts/rules.ts too. */
import { LIMITS } from '../core/limits.ts';
import { ALERT_KINDS } from '../alerts/rules.ts';
import { bounded, object, queueName, type Schema } from './schemas.ts';

const KINDS = Object.keys(ALERT_KINDS);

export const alertId: Schema = {
  type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: "The rule's name: 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
};
const kind: Schema = {
  type: 'string', enum: KINDS,
  description: '`oldestReadyAge` (ms the oldest ready job has waited), `deadLetters` (dead jobs held), `deadRate` (jobs gone dead per second over the model\'s window: dead letters growing), `utilisation` (ρ), `noWorkers` (no worker slots).',
};
const state: Schema = { type: 'string', enum: ['ok', 'pending', 'firing'] };
const nullableNumber: Schema = { type: ['number', 'null'] };

/** A rule as `setAlert` takes it (the `id` comes from the path over HTTP). */
export const alertRuleFields: Record<string, Schema> = {
  queue: queueName,
  kind,
  threshold: { type: 'number', minimum: 0, description: 'The level the value must exceed; required, except for `noWorkers`, which takes none.' },
  forMs: bounded('alertForMs', "How long the condition must hold before the rule fires, in ms."),
  webhook: { type: 'string', minLength: 1, maxLength: 2048, description: 'An http or https URL, without credentials: firing and resolution are POSTed to it.' },
  secret: { type: 'string', minLength: 1, maxLength: 256, description: 'Signs each call: `Spool-Signature: sha256=<hex HMAC-SHA256 of the body>`. Never read back.' },
};

export const alertRule: Schema = {
  type: 'object',
  required: ['id', 'queue', 'kind', 'threshold', 'forMs', 'webhook', 'signed', 'state', 'since', 'value', 'evaluatedAt', 'createdAt', 'updatedAt'],
  properties: {
    id: alertId, queue: queueName, kind, threshold: { type: 'number' }, forMs: { type: 'integer' },
    webhook: { type: 'string', description: 'The URL; to a caller without `admin`, only its origin.' },
    signed: { type: 'boolean' }, state, since: { type: ['integer', 'null'] }, value: nullableNumber, evaluatedAt: { type: ['integer', 'null'] },
    createdAt: { type: 'integer' }, updatedAt: { type: 'integer' },
  },
};

export const alertEvent: Schema = {
  type: 'object',
  required: ['id', 'ruleId', 'queue', 'kind', 'event', 'value', 'threshold', 'reason', 'at', 'delivery', 'attempts', 'lastError', 'deliveredAt'],
  properties: {
    id: { type: 'integer' }, ruleId: alertId, queue: queueName, kind, event: { type: 'string', enum: ['firing', 'resolved'] },
    value: nullableNumber, threshold: { type: 'number' }, reason: { type: 'string' }, at: { type: 'integer' },
    delivery: { type: 'string', enum: ['pending', 'delivered', 'failed'] }, attempts: { type: 'integer' },
    lastError: { type: ['string', 'null'] }, deliveredAt: { type: ['integer', 'null'] },
  },
};

export const alertEventsInput: Schema = object({
  ruleId: alertId,
  before: { type: 'integer', minimum: 1, description: 'Cursor: events older than this id (the last id of the previous page).' },
  limit: { type: 'integer', minimum: LIMITS.listLimit.min, maximum: LIMITS.listLimit.max, description: `Events per page. Default ${LIMITS.listLimit.default}.` },
});
