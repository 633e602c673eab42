/**
 * A job's W3C trace context (https://www.w3.org/TR/trace-context/): checked here, where it
 * enters (the `trace` add option, a publish field, the HTTP add), so that what is stored is
 * always a well-formed `traceparent` a worker can link to. Spool writes and reads the format
 * itself, whatever propagator the application registered (see src/tracing/).
 */
import { InvalidArgumentError } from './errors.ts';
import type { JobTrace } from './job.ts';
import { describe } from './limits.ts';
import { checkOptionKeys } from './options.ts';

/**
 * `version-traceid-parentid-flags` in lowercase hex. Version ff and all-zero ids are invalid
 * by the specification (a worker could not link to them), so they are refused, not stored.
 */
const TRACEPARENT_RE = /^(?!ff)[0-9a-f]{2}-(?!0{32}-)[0-9a-f]{32}-(?!0{16}-)[0-9a-f]{16}-[0-9a-f]{2}$/;
/** The traceparent rule as a pattern, for the API description. */
export const TRACEPARENT_PATTERN = TRACEPARENT_RE.source;
/** Longest tracestate kept: the length the specification asks every system to propagate at least. */
export const TRACESTATE_MAX = 512;
/** tracestate is printable ASCII: no control character (or U+0000, which PostgreSQL cannot store) gets in. */
const TRACESTATE_RE = /^[\x20-\x7e]*$/;
export const TRACESTATE_PATTERN = TRACESTATE_RE.source;

/**
 * A `trace` add option: `{ traceparent, tracestate? }`, or null for none. Returns a new object
 * holding only those fields (an empty tracestate is left out).
 * @throws InvalidArgumentError naming `trace`, `trace.traceparent` or `trace.tracestate` (after `field`).
 */
export function checkJobTrace(value: unknown, field = 'trace'): JobTrace | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(field, `${field} must be an object { traceparent, tracestate? } or null (got ${describe(value)})`);
  }
  checkOptionKeys(value, ['traceparent', 'tracestate'], field, 'field', `${field}.`);
  const { traceparent, tracestate } = value as Record<string, unknown>;
  if (typeof traceparent !== 'string' || !TRACEPARENT_RE.test(traceparent)) {
    throw new InvalidArgumentError(
      `${field}.traceparent`,
      `${field}.traceparent ${describe(traceparent)} is not a W3C traceparent: 00-<trace id, 32 hex>-<parent id, 16 hex>-<flags, 2 hex>, lowercase, ids not all zeros`,
    );
  }
  if (tracestate === undefined || tracestate === '') return { traceparent };
  if (typeof tracestate !== 'string' || tracestate.length > TRACESTATE_MAX || !TRACESTATE_RE.test(tracestate)) {
    throw new InvalidArgumentError(
      `${field}.tracestate`,
      `${field}.tracestate must be a W3C tracestate: printable ASCII, at most ${TRACESTATE_MAX} characters (got ${typeof tracestate === 'string' ? `${tracestate.length} characters` : describe(tracestate)})`,
    );
  }
  return { traceparent, tracestate };
}

/**
 * The trace context of an HTTP request's `traceparent` and `tracestate` headers, or null when it
 * has none or a malformed one (a receiver ignores an invalid traceparent, as the specification
 * says, rather than refusing the request).
 */
export function traceFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): JobTrace | null {
  const traceparent = headers.traceparent;
  if (typeof traceparent !== 'string') return null;
  const tracestate = headers.tracestate;
  try {
    return checkJobTrace({ traceparent: traceparent.trim().toLowerCase(), ...(typeof tracestate === 'string' && tracestate.length <= TRACESTATE_MAX ? { tracestate } : {}) });
  } catch {
    return null;
  }
}
