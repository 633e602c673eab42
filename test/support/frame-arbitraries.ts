/**
 * fast-check generators of WebSocket client frames for the broker's fuzz tests: junk of
 * every type, frames with a real op and anything in the other fields, well-typed frames
 * that get past the shape check into the engine, and raw text and bytes.
 */
import fc from 'fast-check';
import { PROTOCOL_VERSION, type CallMethod } from '../../src/protocol/frames.ts';

const METHODS: CallMethod[] = ['get', 'list', 'cancel', 'retry', 'stats', 'config', 'configure', 'pause', 'resume', 'purge'];
const OPS = ['hello', 'publish', 'ack', 'nack', 'extend', 'release', 'subscribe', 'unsubscribe', 'credit', 'call', 'ping'] as const;

/** Values of the wrong type or out of every range. */
export const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: -1_000_000, max: -1 }),
  fc.constantFrom(0, -0, 0.5, -1.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 2_000, maxLength: 4_000 }),
  fc.constant('x'.repeat(20_000)),
  fc.array(fc.anything({ maxDepth: 2, withNullPrototype: false, withObjectString: false }).map((v) => JSON.parse(JSON.stringify(v) ?? 'null') as unknown), { maxLength: 4 }),
  fc.constantFrom(null, true, false, '', {}, [], [[[]]], { __proto__: { op: 'ping' } }, { constructor: 1, toString: 'x' }),
);
const nat = (max: number) => fc.oneof(fc.nat(max), junk);
/** Mostly a fresh usable id; sometimes an edge id or junk (which makes the frame unanswerable by id). */
let freshId = 0;
/** An id no generated frame has used yet. */
export const nextFreshId = (): number => ++freshId;
export const idArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('fresh' as const) },
  { weight: 1, arbitrary: fc.constantFrom(0, Number.MAX_SAFE_INTEGER) },
  { weight: 2, arbitrary: junk },
);
const validQueue = fc.constantFrom('fuzz', 'fuzz.a', 'fuzz:b', 'fuzz-c_1');
const queueArb = fc.oneof(
  { weight: 3, arbitrary: validQueue },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a'.repeat(129), '../x', 'q\u0000', '*') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: junk },
);
const jobIdArb = fc.oneof(fc.uuid(), fc.constant('01900000-0000-7000-8000-000000000000'), fc.string({ maxLength: 40 }), junk);
const publishItem = fc.record({
  payload: fc.oneof(fc.jsonValue({ maxDepth: 4 }), junk), name: fc.oneof(fc.string({ maxLength: 10 }), junk), priority: nat(10), delayMs: nat(1000),
  runAt: nat(2 ** 41), maxAttempts: nat(5), tx: junk, unknownOption: junk,
}, { requiredKeys: [] });
const leaseItem = fc.record({
  jobId: jobIdArb, token: nat(5), result: junk, error: fc.oneof(fc.string({ maxLength: 30 }), junk), unrecoverable: fc.oneof(fc.boolean(), junk), leaseMs: nat(120_000),
}, { requiredKeys: [] });
const params = fc.oneof(
  fc.record({
    queue: queueArb, jobId: jobIdArb, state: fc.oneof(fc.constantFrom('ready', 'active', 'dead', 'nope'), junk), after: fc.oneof(fc.uuid(), junk), limit: nat(2000),
    config: fc.oneof(fc.record({ maxAttempts: nat(2000), visibilityTimeoutMs: nat(100_000), maxStalls: nat(200), backoff: fc.oneof(fc.record({ type: fc.oneof(fc.constantFrom('fixed', 'exponential'), junk), delayMs: nat(10), maxDelayMs: nat(10) }, { requiredKeys: [] }), junk) }, { requiredKeys: [] }), junk),
  }, { requiredKeys: [] }),
  junk,
);

/** A frame with a real op and anything in its other fields. */
const opFrame = fc.record({
  op: fc.constantFrom(...OPS),
  id: idArb,
  v: fc.oneof(fc.constant(PROTOCOL_VERSION), junk),
  token: junk,
  queue: queueArb,
  jobs: fc.oneof(fc.array(publishItem, { minLength: 0, maxLength: 4 }), junk),
  atomic: fc.oneof(fc.boolean(), junk),
  leases: fc.oneof(fc.array(leaseItem, { minLength: 0, maxLength: 4 }), junk),
  sub: nat(8),
  credits: nat(4),
  n: nat(4),
  method: fc.oneof(fc.constantFrom(...METHODS), fc.string({ maxLength: 12 }), junk),
  params,
  extra: junk,
}, { requiredKeys: ['op'] }).map((f) => (f.id === 'fresh' ? { ...f, id: ++freshId } : f));

/** Parameters of the right types (most values in range), so calls get past validation into the engine. */
const typedParams = fc.record({
  queue: validQueue, jobId: fc.oneof(fc.uuid({ version: 7 }), fc.constant('01900000-0000-7000-8000-000000000000')),
  state: fc.constantFrom('scheduled', 'ready', 'active', 'completed', 'dead', 'cancelled'), after: fc.uuid({ version: 7 }), limit: fc.integer({ min: 0, max: 1001 }),
  config: fc.record({ maxAttempts: fc.integer({ min: 0, max: 1001 }), visibilityTimeoutMs: fc.integer({ min: 99, max: 100_000 }), maxStalls: fc.integer({ min: 1, max: 100 }), backoff: fc.record({ type: fc.constantFrom('fixed', 'exponential'), delayMs: fc.nat(10), maxDelayMs: fc.nat(10) }, { requiredKeys: [] }) }, { requiredKeys: [] }),
}, { requiredKeys: [] });

/** Mostly well-formed: every field of the right type, so frames get past the shape check into the engine. */
const wellTypedFrame = fc.oneof(
  fc.record({ op: fc.constant('publish'), queue: queueArb, jobs: fc.array(publishItem.map((j) => ({ payload: null, ...j })), { minLength: 1, maxLength: 4 }), atomic: fc.boolean() }),
  fc.record({ op: fc.constantFrom('ack', 'nack', 'extend', 'release'), leases: fc.array(fc.record({ jobId: jobIdArb, token: fc.nat(5) }).chain((l) => leaseItem.map((x) => ({ ...x, ...l }))), { minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('subscribe'), sub: fc.nat(8), queue: queueArb, credits: fc.nat(4) }),
  fc.record({ op: fc.constant('unsubscribe'), sub: fc.nat(8) }),
  fc.record({ op: fc.constant('credit'), sub: fc.nat(8), n: fc.nat(4) }),
  fc.record({ op: fc.constant('call'), method: fc.constantFrom(...METHODS), params: fc.oneof({ weight: 3, arbitrary: typedParams }, { weight: 1, arbitrary: params }) }),
).map((f) => ({ ...f, id: ++freshId }));

/** One message a client might send: mostly frames, some garbage. */
export const message = fc.oneof(
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 5, arbitrary: opFrame },
  { weight: 4, arbitrary: wellTypedFrame },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
);
