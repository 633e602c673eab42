import type { QueueConfig, QueueConfigInput } from '../core/queue-config.ts';
import { nearest } from '../core/options.ts';
import { UsageError } from './exit-codes.ts';

/**
 * The queue settings `spool queue set --set name=value` takes; `backoff.*` are the fields of the
 * backoff, `rateLimit.*` those of the rate limit and `keyRateLimit.*` those of the per-key rate
 * limit (each given whole: the fields left out take their defaults); `rateLimit=none` and
 * `keyRateLimit=none` remove them.
 */
export const QUEUE_SETTING_NAMES = [
  'visibilityTimeoutMs', 'maxAttempts', 'maxStalls', 'timeoutMs', 'backoff.type', 'backoff.delayMs', 'backoff.maxDelayMs',
  'rateLimit', 'rateLimit.rate', 'rateLimit.perMs', 'rateLimit.burst', 'rateLimit.limiter', 'maxLength', 'overflow',
  'policy', 'agingMs', 'sjfCostFactor', 'sjfLearnPct', 'fairWeights', 'concurrencyLimit', 'concurrencyLimits', 'groupFifo',
  'keyRateLimit', 'keyRateLimit.rate', 'keyRateLimit.perMs', 'keyRateLimit.burst', 'keyRateLimits', 'labels',
] as const;

/** The settings given as fields (`name.field=value`), each replaced whole, and removed with `name=none`. */
const LIMIT_OBJECTS = ['rateLimit', 'keyRateLimit'] as const;

/** Settings whose value is a word, not an integer. */
const WORDS: readonly string[] = ['backoff.type', 'policy'];

type SettingName = (typeof QUEUE_SETTING_NAMES)[number];

/**
 * Parses repeated `--set name=value` flags into the input of `configureQueue`. Numbers must be
 * integers, backoff.type and policy words, fairWeights, concurrencyLimits, keyRateLimits and labels JSON objects (`{"acme":2}`),
 * groupFifo true or false, concurrencyLimit an integer or `none`; bounds are
 * checked by the operation (exit 2, naming the setting).
 * @throws UsageError for a malformed flag, an unknown name (naming the nearest), a non-integer or a setting given twice.
 * @example
 * parseQueueSettings(['maxAttempts=10', 'backoff.type=fixed']); // { maxAttempts: 10, backoff: { type: 'fixed' } }
 */
export function parseQueueSettings(items: readonly string[]): QueueConfigInput {
  const config: Record<string, unknown> = {};
  const backoff: Record<string, unknown> = {};
  const limits: Record<(typeof LIMIT_OBJECTS)[number], Record<string, unknown>> = { rateLimit: {}, keyRateLimit: {} };
  const seen = new Set<string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq < 1) throw new UsageError(`--set takes name=value, e.g. --set maxAttempts=10 (got ${JSON.stringify(item)})`);
    const name = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    if (!(QUEUE_SETTING_NAMES as readonly string[]).includes(name)) {
      const near = nearest(name, QUEUE_SETTING_NAMES);
      throw new UsageError(`--set ${name}: no such queue setting; ${near ? `did you mean ${near}? ` : ''}queue settings: ${QUEUE_SETTING_NAMES.join(', ')}`);
    }
    if (seen.has(name)) throw new UsageError(`--set ${name} is given twice`);
    seen.add(name);
    if (name === 'rateLimit' || name === 'keyRateLimit') {
      if (raw !== 'none') throw new UsageError(`--set ${name} takes only none (no limit); set a limit with --set ${name}.rate=<n> and the other ${name}.* (got ${JSON.stringify(raw)})`);
      config[name] = null;
      continue;
    }
    // maxLength takes `none` (or 0) for no bound; backoff.type, policy, rateLimit.limiter and overflow are words; fairWeights is JSON.
    const value = WORDS.includes(name) || name === 'rateLimit.limiter' || name === 'overflow' ? raw
      : name === 'fairWeights' || name === 'concurrencyLimits' || name === 'keyRateLimits' || name === 'labels' ? jsonObject(name, raw)
      : name === 'groupFifo' ? boolean(name, raw)
      : (name === 'maxLength' || name === 'concurrencyLimit') && raw.trim() === 'none' ? null : integer(name as SettingName, raw);
    if (name.startsWith('backoff.')) backoff[name.slice('backoff.'.length)] = value;
    else if (name.includes('.')) limits[name.slice(0, name.indexOf('.')) as (typeof LIMIT_OBJECTS)[number]][name.slice(name.indexOf('.') + 1)] = value;
    else config[name] = value;
  }
  if (Object.keys(backoff).length > 0) config.backoff = backoff;
  for (const name of LIMIT_OBJECTS) {
    if (Object.keys(limits[name]).length === 0) continue;
    if (config[name] === null) throw new UsageError(`--set ${name}=none goes alone, without ${name}.*`);
    config[name] = limits[name];
  }
  return config as QueueConfigInput;
}

function integer(name: SettingName, raw: string): number {
  if (!/^[-+]?\d+$/.test(raw.trim())) throw new UsageError(`--set ${name} needs an integer (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

function jsonObject(name: SettingName, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    const what = name === 'concurrencyLimits' ? 'key → limit' : name === 'keyRateLimits' ? 'key → rate limit' : 'group → weight';
    const example = name === 'keyRateLimits' ? '{"acme":{"rate":5}}' : '{"acme":2}';
    throw new UsageError(`--set ${name} needs a JSON object of ${what}, e.g. --set '${name}=${example}' (got ${JSON.stringify(raw)})`);
  }
}

function boolean(name: SettingName, raw: string): boolean {
  if (raw.trim() === 'true') return true;
  if (raw.trim() === 'false') return false;
  throw new UsageError(`--set ${name} needs true or false (got ${JSON.stringify(raw)})`);
}

/** A queue's settings as `name: value` lines, named as `--set` takes them. */
export function renderQueueConfig(name: string, config: QueueConfig): string {
  const backoff = config.backoff as { type: string; delayMs: number; maxDelayMs?: number };
  const rows: [string, string][] = [
    ['queue', name],
    ['visibilityTimeoutMs', String(config.visibilityTimeoutMs)],
    ['maxAttempts', String(config.maxAttempts)],
    ['maxStalls', String(config.maxStalls)],
    ['timeoutMs', String(config.timeoutMs)],
    ['backoff.type', backoff.type],
    ['backoff.delayMs', String(backoff.delayMs)],
    ...(backoff.maxDelayMs === undefined ? [] : [['backoff.maxDelayMs', String(backoff.maxDelayMs)] as [string, string]]),
    ...rateLimitRows(config),
    ['maxLength', config.maxLength === null || config.maxLength === undefined ? 'none' : String(config.maxLength)],
    ['overflow', config.overflow ?? 'reject'],
    ['policy', config.policy],
    ['agingMs', String(config.agingMs)],
    ['sjfCostFactor', String(config.sjfCostFactor)],
    ['sjfLearnPct', String(config.sjfLearnPct)],
    ['fairWeights', JSON.stringify(config.fairWeights)],
    // A broker without per-key concurrency answers without these fields.
    ['concurrencyLimit', config.concurrencyLimit === null || config.concurrencyLimit === undefined ? 'none' : String(config.concurrencyLimit)],
    ['concurrencyLimits', JSON.stringify(config.concurrencyLimits ?? {})],
    ['groupFifo', String(config.groupFifo ?? false)],
    // A broker without per-key rate limits answers without these fields.
    ...keyRateLimitRows(config),
    ['keyRateLimits', JSON.stringify(config.keyRateLimits ?? {})],
    ['labels', JSON.stringify(config.labels ?? {})],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${(k + ':').padEnd(width)} ${v}`).join('\n');
}

/** The rate limit's lines: `rateLimit: none`, or its fields (the limiter only when shared). */
function rateLimitRows(config: QueueConfig): [string, string][] {
  const r = config.rateLimit ?? null; // a broker without rate limits answers without the field
  if (r === null) return [['rateLimit', 'none']];
  return [
    ['rateLimit.rate', String(r.rate)],
    ['rateLimit.perMs', String(r.perMs)],
    ['rateLimit.burst', String(r.burst)],
    ...(r.limiter === null ? [] : [['rateLimit.limiter', r.limiter] as [string, string]]),
  ];
}

/** The per-key rate limit's lines: `keyRateLimit: none`, or its fields. */
function keyRateLimitRows(config: QueueConfig): [string, string][] {
  const r = config.keyRateLimit ?? null;
  if (r === null) return [['keyRateLimit', 'none']];
  return [['keyRateLimit.rate', String(r.rate)], ['keyRateLimit.perMs', String(r.perMs)], ['keyRateLimit.burst', String(r.burst)]];
}
