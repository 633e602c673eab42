import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { InvalidArgumentError } from '../core/errors.ts';
import { describe } from '../core/limits.ts';
import { nearest } from '../core/options.ts';
import { checkConcurrencyKey, checkIdempotencyKey, checkJobCost, checkJobGroup, checkJobId, checkJobName, checkJobState, checkQueueName, checkUniqueKey } from '../core/validate.ts';
import { checkResourceTags } from '../core/resource-tags.ts';
import type { Operation } from './operations.ts';
import type { Schema } from './schemas.ts';

/**
 * Fields whose own validator says best what is wrong (the same words as the in-process
 * Spool): a schema failure on one of them is reported by that validator.
 */
const DOMAIN: Readonly<Record<string, (value: unknown, field: string) => unknown>> = {
  queue: checkQueueName,
  jobId: checkJobId,
  after: checkJobId,
  name: checkJobName,
  group: checkJobGroup,
  idempotencyKey: checkIdempotencyKey,
  state: checkJobState,
  cost: checkJobCost,
  uniqueKey: checkUniqueKey,
  concurrencyKey: checkConcurrencyKey,
  requires: checkResourceTags,
  tags: checkResourceTags,
};

/** List fields whose validator, given the whole list, says best what is wrong with one item (it names the list, as in-process). */
const DOMAIN_LISTS: ReadonlySet<string> = new Set(['requires', 'tags']);

// One compiler for every operation's input schema; each schema is compiled once, on first use.
const ajv = new Ajv2020({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false, verbose: true });
const compiled = new WeakMap<Schema, ValidateFunction>();

/**
 * Checks an operation's input against its schema, the same on HTTP and WebSocket, before it
 * reaches the engine.
 * @throws InvalidArgumentError naming the field, e.g. `addJobs: unknown field "delay"; did you mean "delayMs"?`.
 */
export function checkInput(op: Operation, input: unknown): void {
  let validate = compiled.get(op.input);
  if (!validate) {
    validate = ajv.compile(op.input);
    compiled.set(op.input, validate);
  }
  if (validate(input)) return;
  op.explain?.(input); // the engine's words, when it sees the problem too
  throw toInvalidArgument(op, validate.errors?.[0], input);
}

/** One schema failure as an error a person can act on: the field, what is wrong, what to send instead. */
function toInvalidArgument(op: Operation, e: ErrorObject | undefined, input: unknown): InvalidArgumentError {
  if (!e) return new InvalidArgumentError('input', `${op.name}: invalid input`);
  const fullPath = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path = op.inputRoot !== undefined && fullPath[0] === op.inputRoot ? fullPath.slice(1) : fullPath;
  const root = path === fullPath ? input : (input as Record<string, unknown>)[op.inputRoot!];
  const field = path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('').replace(/\.\[/g, '[') || 'input';
  const value = path.reduce<unknown>((v, p) => (v as Record<string, unknown> | undefined)?.[p], root);
  const p = e.params as Record<string, unknown>;
  const own = DOMAIN[path.at(-1) ?? ''];
  if (own && path === fullPath && path.length === 1 && !['additionalProperties', 'required'].includes(e.keyword)) own(value, field); // throws its own error
  if (path === fullPath && path.length === 2 && DOMAIN_LISTS.has(path[0]!) && /^\d+$/.test(path[1]!)) {
    DOMAIN[path[0]!]!((root as Record<string, unknown>)[path[0]!], path[0]!); // throws its own error, naming the list
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const known = Object.keys(((e.parentSchema as Schema | undefined)?.properties as object | undefined) ?? {});
      const near = nearest(key, known);
      const at = field === 'input' ? key : `${field}.${key}`;
      return new InvalidArgumentError(at, `${op.name}: unknown field ${JSON.stringify(at)}; ${near ? `did you mean ${JSON.stringify(near)}?` : `known: ${known.join(', ')}`}`);
    }
    case 'required': {
      const key = String(p.missingProperty);
      return new InvalidArgumentError(field === 'input' ? key : `${field}.${key}`, `${op.name}: ${JSON.stringify(key)} is required`);
    }
    case 'type': // one type, or several (a nullable object: "an object or null")
      return new InvalidArgumentError(field, `${field} must be ${[p.type].flat().map((t) => article(String(t))).join(' or ')} (got ${describe(value)})`);
    case 'minimum':
      return new InvalidArgumentError(field, `${field} must be at least ${String(p.limit)} (got ${describe(value)})`);
    case 'maximum':
      return new InvalidArgumentError(field, `${field} must be at most ${String(p.limit)} (got ${describe(value)})`);
    case 'exclusiveMinimum':
      return new InvalidArgumentError(field, `${field} must be greater than ${String(p.limit)} (got ${describe(value)})`);
    case 'maxProperties':
      return new InvalidArgumentError(field, `${field} may have at most ${String(p.limit)} entries`);
    case 'minItems':
      return new InvalidArgumentError(field, `${field} must hold at least ${String(p.limit)} item(s)`);
    case 'maxItems':
      return new InvalidArgumentError(field, `${field} holds more than ${String(p.limit)} items; split it`);
    case 'enum':
      return new InvalidArgumentError(field, `${field} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${describe(value)})`);
    case 'pattern':
    case 'minLength':
    case 'maxLength': {
      const rule = (e.parentSchema as Schema | undefined)?.description;
      return new InvalidArgumentError(field, `${field} ${describe(value)} is not valid${rule ? `: ${String(rule)}` : ''}`);
    }
    default:
      return new InvalidArgumentError(field, `${op.name}: ${op.inputRule ?? `${field} ${e.message ?? 'is not valid'}`}`);
  }
}

function article(type: string): string {
  if (type === 'null') return 'null';
  if (type === 'integer') return 'an integer';
  if (type === 'object' || type === 'array') return `an ${type}`;
  return `a ${type}`;
}
