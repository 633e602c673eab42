import { InvalidArgumentError, PayloadTooLargeError } from './errors.ts';
import { isJobId } from './ids.ts';
import { JOB_STATES, type JobState } from './job.ts';
import { describe, LIMITS } from './limits.ts';

// The add options (their type and their check) live in add-options.ts.

const QUEUE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** The queue-name rule as a pattern, for the API description. */
export const QUEUE_NAME_PATTERN = QUEUE_NAME_RE.source;

/**
 * Queue names: 1–128 characters of letters, digits, `.`, `_`, `:` and `-`, starting with a letter or digit.
 * Dots group queues (`orders.eu`) so that scopes can match patterns later.
 */
export function checkQueueName(name: unknown, field = 'queue'): string {
  if (typeof name !== 'string' || !QUEUE_NAME_RE.test(name)) {
    throw new InvalidArgumentError(
      field,
      `${field} name ${describe(name)} is not valid: use 1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** Longest job name, in UTF-16 code units. */
export const JOB_NAME_MAX = 128;

/**
 * Job names: 1–128 characters of well-formed text without U+0000 (which PostgreSQL cannot store).
 * The same rule checks a job's `group` (pass `field`: `group`); only a name defaults to `default`.
 */
export function checkJobName(name: unknown, field = 'name'): string {
  if (name === undefined && field === 'name') return 'default';
  const what = field === 'name' ? 'job name' : field;
  if (typeof name !== 'string' || name.length === 0 || name.length > JOB_NAME_MAX) {
    throw new InvalidArgumentError(field, `${what} must be a string of 1–${JOB_NAME_MAX} characters (got ${describe(name)})`);
  }
  const problem = stringProblem(name);
  if (problem) throw new InvalidArgumentError(field, `${what} ${JSON.stringify(name)} ${problem}`);
  return name;
}

/** Longest idempotency key, in UTF-16 code units. */
export const IDEMPOTENCY_KEY_MAX = 128;

/** An add's idempotency key: 1–128 characters of well-formed text without U+0000. @throws InvalidArgumentError naming `idempotencyKey` */
export function checkIdempotencyKey(key: unknown): string {
  const field = 'idempotencyKey';
  if (typeof key !== 'string' || key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX) {
    throw new InvalidArgumentError(field, `${field} must be a string of 1–${IDEMPOTENCY_KEY_MAX} characters (got ${describe(key)})`);
  }
  const problem = stringProblem(key);
  if (problem) throw new InvalidArgumentError(field, `${field} ${JSON.stringify(key)} ${problem}`);
  return key;
}

/** Longest unique key, in UTF-16 code units. */
export const UNIQUE_KEY_MAX = 128;

/** An add's unique key: 1–128 characters of well-formed text without U+0000. @throws InvalidArgumentError naming `uniqueKey` */
export function checkUniqueKey(key: unknown): string {
  const field = 'uniqueKey';
  if (typeof key !== 'string' || key.length === 0 || key.length > UNIQUE_KEY_MAX) {
    throw new InvalidArgumentError(field, `${field} must be a string of 1–${UNIQUE_KEY_MAX} characters (got ${describe(key)})`);
  }
  const problem = stringProblem(key);
  if (problem) throw new InvalidArgumentError(field, `${field} ${JSON.stringify(key)} ${problem}`);
  return key;
}

/** A job's group (tenant, customer): the rule of a job name ({@link checkJobName}), naming `group`. @throws InvalidArgumentError */
export function checkJobGroup(group: unknown): string {
  return checkJobName(group, 'group');
}

/** A job's concurrency key: the rule of a job group ({@link checkJobGroup}), naming `concurrencyKey`. @throws InvalidArgumentError */
export function checkConcurrencyKey(key: unknown): string {
  return checkJobName(key, 'concurrencyKey');
}

/**
 * In JSON.stringify's output, what may hide a value no store can keep: the escape of U+0000,
 * the escape of an unpaired surrogate (Node writes lone surrogates as `\udXXX`), or a `null`,
 * which is what NaN and ±Infinity became. Only a filter: {@link findUnstorable} decides (an
 * escaped backslash before `u0000`, or a real null, is a false alarm that costs one walk).
 */
const SUSPECT_JSON = /\\u(?:0000|d[89a-f])|null/;

/**
 * Serialises a payload (or result) to JSON, refusing what JSON, or one of the stores, cannot
 * carry faithfully, the same on every store: U+0000 and unpaired surrogates in any string
 * (values and keys; PostgreSQL refuses both), NaN and ±Infinity (JSON.stringify would turn
 * them into null), BigInt, circular structures. The message names the path, e.g.
 * `payload.items[3] contains an unpaired surrogate (\ud800) …`. Members whose value is
 * undefined, a function or a symbol are left out, as JSON.stringify does.
 * Cost: one JSON.stringify and one regex test over its output; the value is walked only when
 * that test matches.
 * @throws InvalidArgumentError (its `field` is `field`) when the value cannot be stored; PayloadTooLargeError when over `maxBytes`.
 */
export function encodeJson(value: unknown, maxBytes: number, field = 'payload'): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    const problem =
      findUnstorable(value, field) ??
      (err instanceof RangeError ? `${field} is nested too deeply to be sent as JSON (${err.message})` : `${field} is not JSON-serialisable: ${(err as Error).message}`);
    throw new InvalidArgumentError(field, problem, { cause: err });
  }
  if (json === undefined) {
    throw new InvalidArgumentError(field, `${field} is not JSON-serialisable (got ${describe(value)}); use an object, array, string, number, boolean or null`);
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only long strings need the exact count.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes, field);
  }
  if (SUSPECT_JSON.test(json)) {
    const problem = findUnstorable(value, field);
    if (problem) throw new InvalidArgumentError(field, problem);
  }
  return json;
}

/**
 * Why a string cannot be stored (U+0000, or an unpaired surrogate), as the end of a sentence
 * whose subject is the string; null when it can.
 */
export function stringProblem(s: string): string | null {
  const nul = s.indexOf('\0');
  if (nul !== -1) {
    return `contains the character U+0000 (NUL) at index ${nul}, which Spool does not store (PostgreSQL cannot hold it): remove it, or encode binary data as base64`;
  }
  if (s.isWellFormed()) return null;
  const at = loneSurrogateAt(s);
  const unit = s.charCodeAt(at).toString(16);
  return (
    `contains an unpaired surrogate (\\u${unit}) at index ${at}, which is not valid Unicode and which Spool does not store ` +
    '(PostgreSQL cannot hold it): the text was probably cut inside a character such as an emoji; repair it, or replace it with toWellFormed()'
  );
}

function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

const IDENTIFIER_RE = /^[A-Za-z_$][\w$]*$/;

/** `payload.items[3].name`, `payload["a b"]`: the path of a value, from the field and the keys and indexes on the way. */
function formatPath(field: string, keys: readonly (string | number)[], depth = keys.length): string {
  let path = field;
  for (let i = 0; i < depth; i++) {
    const k = keys[i]!;
    path += typeof k === 'number' ? `[${k}]` : IDENTIFIER_RE.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  }
  return path;
}

/**
 * Walks `root` as JSON.stringify does (toJSON, boxed primitives, members left out) and says
 * what in it cannot be stored, naming its path from `field`; null when everything can.
 * Iterative, so it goes as deep as JSON.stringify does.
 */
export function findUnstorable(root: unknown, field: string): string | null {
  /** The keys and indexes from the root to the value being visited; a path is built from them only for a message. */
  const keys: (string | number)[] = [];
  /** The objects and arrays being visited, outermost first: `frames[k]` sits at depth k. */
  const frames: { value: object; names: string[] | null; length: number; next: number }[] = [];
  const onPath = new Set<object>();
  const path = (depth = keys.length) => formatPath(field, keys, depth);
  /** Checks one value; an object or array is pushed, to be walked next. */
  const enter = (key: string, input: unknown): string | null => {
    let value = input;
    if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') value = toJSON.call(value, key);
    }
    if (typeof value === 'object' && value !== null) {
      if (value instanceof Number) value = Number(value);
      else if (value instanceof String) value = String(value);
      else if (value instanceof Boolean) value = value.valueOf();
      else if (value instanceof BigInt) value = value.valueOf();
    }
    switch (typeof value) {
      case 'string': {
        const problem = stringProblem(value);
        return problem && `${path()} ${problem}`;
      }
      case 'number':
        return Number.isFinite(value) ? null : `${path()} is ${value}; JSON has no NaN or Infinity: send null or a string`;
      case 'bigint':
        return `${path()} is a BigInt (${value}n); JSON has no BigInt: send it as a string`;
      case 'object': {
        if (value === null) return null;
        if (onPath.has(value)) {
          const seen = frames.findIndex((f) => f.value === value);
          return `${path()} refers back to ${path(seen)}: a circular structure cannot be sent as JSON`;
        }
        onPath.add(value);
        const names = Array.isArray(value) ? null : Object.keys(value);
        frames.push({ value, names, length: names ? names.length : (value as unknown[]).length, next: 0 });
        return null;
      }
      default:
        return null; // undefined, functions and symbols: left out (or null in arrays), as JSON.stringify does
    }
  };
  try {
    let problem = enter('', root);
    while (problem === null && frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.next === frame.length) {
        onPath.delete(frames.pop()!.value);
        keys.pop(); // the key of this container in its parent (none for the root)
        continue;
      }
      const i = frame.next++;
      let key: string | number = i;
      let member: unknown;
      if (frame.names === null) member = (frame.value as unknown[])[i];
      else {
        key = frame.names[i]!;
        member = (frame.value as Record<string, unknown>)[key];
        if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
        const keyProblem = stringProblem(key);
        if (keyProblem) return `the key ${JSON.stringify(key)} of ${path()} ${keyProblem}`;
      }
      keys.push(key);
      const depth = frames.length;
      problem = enter(String(key), member);
      if (frames.length === depth) keys.pop(); // not a container: done with it
    }
    return problem;
  } catch {
    return null; // a getter or toJSON that throws: the caller reports JSON.stringify's own error
  }
}

/** The `cost` add option: a positive finite number of ms, at most the `cost` limit. @throws InvalidArgumentError */
export function checkJobCost(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError('cost', `cost must be a positive finite number: the job's expected run time in ms (got ${describe(value)})`);
  }
  if (value > LIMITS.cost.max) throw new InvalidArgumentError('cost', `cost must be at most ${LIMITS.cost.max} (got ${value})`);
  return value;
}

/** A state name, one of JOB_STATES. @throws InvalidArgumentError */
export function checkJobState(state: unknown, field = 'state'): JobState {
  if (!JOB_STATES.includes(state as JobState)) {
    throw new InvalidArgumentError(field, `${field} must be one of ${JOB_STATES.join(', ')} (got ${describe(state)})`);
  }
  return state as JobState;
}

/** A job id (UUIDv7). @throws InvalidArgumentError naming `field` (default `jobId`). */
export function checkJobId(id: unknown, field = 'jobId'): string {
  if (!isJobId(id)) throw new InvalidArgumentError(field, `${field} ${describe(id)} is not a job id (a UUID such as 0192d3e4-5f6a-7b8c-9d0e-1f2a3b4c5d6e)`);
  return id;
}
