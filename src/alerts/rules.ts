/**
 * Alert rules: what an operator asks to be told about, per queue, and how each kind reads
 * the live overview. A rule fires when its condition has held for `forMs`, and resolves when
 * it no longer holds; both are recorded and sent to the rule's webhook (see services.ts).
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { checkLimit, describe } from '../core/limits.ts';
import { checkOptionKeys, nearest } from '../core/options.ts';
import { checkQueueName } from '../core/validate.ts';
import type { QueueOverview } from '../model/overview.ts';
import type { AlertEvent, AlertKind, AlertRule, AlertRuleInput, AlertState } from './types.ts';

export type { AlertEvent, AlertKind, AlertRule, AlertRuleInput, AlertState };

/** How each kind reads a queue's overview and compares it with the threshold. */
interface KindSpec {
  /** The value watched, from the queue's overview (undefined: the queue has no jobs and no settings). */
  value(q: QueueOverview | undefined): number;
  breached(value: number, threshold: number): boolean;
  /** Whether a threshold is given (and its bounds), or the kind takes none. */
  threshold: { min: number; max: number } | null;
  describe(value: number, threshold: number): string;
}

/** The kinds of rule, with what each watches. docs/operations.md lists them. */
export const ALERT_KINDS: Record<AlertKind, KindSpec> = {
  oldestReadyAge: {
    value: (q) => q?.oldestReadyAgeMs ?? 0,
    breached: (v, t) => v > t,
    threshold: { min: 0, max: 365 * 24 * 3_600_000 },
    describe: (v, t) => `the oldest ready job has waited ${Math.round(v)} ms (threshold ${t} ms)`,
  },
  deadLetters: {
    value: (q) => q?.counts.dead ?? 0,
    breached: (v, t) => v > t,
    threshold: { min: 0, max: Number.MAX_SAFE_INTEGER },
    describe: (v, t) => `${v} dead ${v === 1 ? 'job' : 'jobs'} (threshold ${t})`,
  },
  deadRate: {
    value: (q) => q?.model.deadRate ?? 0,
    breached: (v, t) => v > t,
    threshold: { min: 0, max: 1_000_000 },
    describe: (v, t) => `${(v * 60).toFixed(1)} jobs went dead per minute over the last minute (threshold ${t}/s)`,
  },
  utilisation: {
    value: (q) => q?.model.utilisation ?? 0,
    breached: (v, t) => v > t,
    threshold: { min: 0, max: 1000 },
    describe: (v, t) => `utilisation ρ is ${v.toFixed(2)} (threshold ${t})`,
  },
  noWorkers: {
    value: (q) => q?.model.workers ?? 0,
    breached: (v) => v < 1,
    threshold: null,
    describe: (v) => (v < 1 ? 'no worker is consuming from the queue' : `${v} worker slots consume from the queue`),
  },
};

const KINDS = Object.keys(ALERT_KINDS) as AlertKind[];
const RULE_KEYS = ['id', 'queue', 'kind', 'threshold', 'forMs', 'webhook', 'secret'] as const;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Longest webhook URL and secret, in characters. */
const URL_MAX = 2048;
const SECRET_MAX = 256;

/** An alert rule's id, checked. */
export function checkAlertId(id: unknown, field = 'id'): string {
  if (typeof id !== 'string' || !ID_RE.test(id)) {
    throw new InvalidArgumentError(field, `alert id ${describe(id)} is not valid: use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return id;
}

/** A rule with every field checked and its defaults filled in. */
export type CheckedAlertRule = Required<Omit<AlertRuleInput, 'secret'>> & { secret: string | null };

/**
 * Checks a rule as `setAlert` receives it: known keys only (naming the nearest), a known
 * kind, a threshold within its kind's bounds (required, or refused for `noWorkers`),
 * `forMs` within `alertForMs`, and an http(s) webhook.
 * @throws InvalidArgumentError naming the field.
 */
export function checkAlertRule(input: unknown): CheckedAlertRule {
  checkOptionKeys(input, RULE_KEYS, 'setAlert', 'field');
  if (input === undefined) throw new InvalidArgumentError('rule', 'setAlert: a rule is required: { id, queue, kind, threshold, forMs, webhook }');
  const r = input as Record<string, unknown>;
  const id = checkAlertId(r.id);
  const queue = checkQueueName(r.queue);
  if (typeof r.kind !== 'string' || !(KINDS as string[]).includes(r.kind)) {
    const near = typeof r.kind === 'string' ? nearest(r.kind, KINDS) : null;
    throw new InvalidArgumentError('kind', `alert kind ${describe(r.kind)} is not known; ${near ? `did you mean ${JSON.stringify(near)}?` : `kinds: ${KINDS.join(', ')}`}`);
  }
  const kind = r.kind as AlertKind;
  const bounds = ALERT_KINDS[kind].threshold;
  let threshold = 0;
  if (bounds === null) {
    if (r.threshold !== undefined) throw new InvalidArgumentError('threshold', `an alert of kind ${kind} takes no threshold`);
  } else {
    if (typeof r.threshold !== 'number' || !Number.isFinite(r.threshold)) throw new InvalidArgumentError('threshold', `an alert of kind ${kind} needs a numeric threshold (got ${describe(r.threshold)})`);
    if (r.threshold < bounds.min || r.threshold > bounds.max) throw new InvalidArgumentError('threshold', `threshold must be between ${bounds.min} and ${bounds.max} for ${kind} (got ${r.threshold})`);
    threshold = r.threshold;
  }
  const forMs = checkLimit('alertForMs', r.forMs, 'forMs');
  const webhook = checkWebhook(r.webhook);
  if (r.secret !== undefined && (typeof r.secret !== 'string' || r.secret.length === 0 || r.secret.length > SECRET_MAX)) {
    throw new InvalidArgumentError('secret', `secret must be a string of 1–${SECRET_MAX} characters`);
  }
  return { id, queue, kind, threshold, forMs, webhook, secret: (r.secret as string | undefined) ?? null };
}

function checkWebhook(value: unknown): string {
  const refuse = (why: string) => new InvalidArgumentError('webhook', `webhook ${describe(value)} ${why}`);
  if (typeof value !== 'string' || value.length > URL_MAX) throw refuse(`must be an http or https URL of at most ${URL_MAX} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('must use http or https');
  if (url.username || url.password) throw refuse('must not carry credentials: sign calls with `secret` instead');
  return url.href;
}
