import { InvalidArgumentError } from '../../core/errors.ts';
import { checkTags } from '../../core/tags.ts';
import { checkResourceTags } from '../../core/resource-tags.ts';
import { describe, LIMITS } from '../../core/limits.ts';
import type { ClientFrame } from '../../protocol/frames.ts';
import { CALL_METHODS } from './calls.ts';

const METHODS: ReadonlySet<string> = new Set(CALL_METHODS);
const LEASE_OPS = new Set(['ack', 'nack', 'extend', 'release']);

/** A frame that could not be read; `id` is set when the frame had a usable one, so the error can answer it. */
export class FrameError extends InvalidArgumentError {
  readonly frameId: number | undefined;
  constructor(message: string, frameId: number | undefined) {
    super('frame', message);
    this.frameId = frameId;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Checks the shape of a parsed client frame (not its values: the engine validates
 * queue names, payload sizes and options and answers with its own errors).
 * @throws FrameError naming what is wrong.
 */
export function checkFrame(value: unknown, batchMax: number): ClientFrame {
  if (!isObject(value)) throw new FrameError(`a frame must be a JSON object (got ${describe(value)})`, undefined);
  const op = value.op;
  const id = isCount(value.id) ? value.id : undefined;
  const fail = (why: string): never => {
    throw new FrameError(`${typeof op === 'string' ? op.slice(0, 20) : 'frame'}: ${why}`, id);
  };
  if (typeof op !== 'string') return fail('"op" must be a string');
  if (op === 'credit') {
    if (!isCount(value.sub) || !isCount(value.n)) fail('"sub" and "n" must be non-negative integers');
    return value as unknown as ClientFrame;
  }
  if (op === 'hello') {
    if (!isCount(value.v)) fail('"v" must be the protocol version, an integer');
    if (value.token !== undefined && typeof value.token !== 'string') fail('"token" must be a string');
    if (value.tags !== undefined) {
      try {
        checkTags(value.tags);
      } catch (err) {
        fail((err as Error).message);
      }
    }
    return value as unknown as ClientFrame;
  }
  if (id === undefined) fail('"id" must be a non-negative integer');
  if (op === 'ping' || op === 'watch' || op === 'unwatch') return value as unknown as ClientFrame;
  if (op === 'publish') {
    if (typeof value.queue !== 'string') fail('"queue" must be a string');
    if (!Array.isArray(value.jobs) || value.jobs.length === 0) fail('"jobs" must be a non-empty array');
    if ((value.jobs as unknown[]).length > batchMax) fail(`at most ${batchMax} jobs per frame`);
    if (!(value.jobs as unknown[]).every((j) => isObject(j) && 'payload' in j)) fail('each job must be an object with a "payload"');
    if (value.confirm !== undefined) {
      if (value.confirm !== 'ids') fail(`"confirm" must be "ids" (the compact confirm of an atomic publish) or left out (got ${describe(value.confirm)})`);
      if (value.atomic !== true) fail('"confirm" is for an atomic publish: send "atomic": true with it, or leave it out');
    }
    const waitMs = value.waitMs;
    if (waitMs !== undefined && !(Number.isInteger(waitMs) && (waitMs as number) >= 0 && (waitMs as number) <= LIMITS.queueFullWaitMs.max)) {
      fail(`"waitMs" must be an integer from 0 to ${LIMITS.queueFullWaitMs.max}`);
    }
    return value as unknown as ClientFrame;
  }
  if (LEASE_OPS.has(op)) {
    const leases = value.leases;
    if (!Array.isArray(leases) || leases.length === 0) fail('"leases" must be a non-empty array');
    if ((leases as unknown[]).length > batchMax) fail(`at most ${batchMax} leases per frame`);
    for (const l of leases as unknown[]) {
      if (!isObject(l) || typeof l.jobId !== 'string' || !isCount(l.token)) fail('each lease must be { jobId: string, token: integer }');
    }
    return value as unknown as ClientFrame;
  }
  if (op === 'subscribe') {
    if (!isCount(value.sub) || !isCount(value.credits)) fail('"sub" and "credits" must be non-negative integers');
    if (typeof value.queue !== 'string') fail('"queue" must be a string');
    if (value.tags !== undefined) {
      try {
        value.tags = checkResourceTags(value.tags, 'tags'); // canonical: the broker groups its subscribers by them
      } catch (err) {
        fail((err as Error).message);
      }
    }
    const capacity = value.capacity;
    if (capacity !== undefined && !(Number.isSafeInteger(capacity) && (capacity as number) >= 1 && (capacity as number) <= LIMITS.concurrency.max)) {
      fail(`"capacity" must be an integer from 1 to ${LIMITS.concurrency.max}`);
    }
    return value as unknown as ClientFrame;
  }
  if (op === 'unsubscribe') {
    if (!isCount(value.sub)) fail('"sub" must be a non-negative integer');
    return value as unknown as ClientFrame;
  }
  if (op === 'call') {
    if (typeof value.method !== 'string' || !METHODS.has(value.method)) fail(`"method" must be one of ${[...METHODS].join(', ')}`);
    if (value.params !== undefined && !isObject(value.params)) fail('"params" must be an object');
    return { ...value, params: value.params ?? {} } as unknown as ClientFrame;
  }
  return fail(`unknown op; this broker speaks hello, publish, ack, nack, extend, release, subscribe, unsubscribe, credit, call, ping, watch, unwatch`);
}
