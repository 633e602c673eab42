/**
 * OpenTelemetry, when the application has it: the trace context a new job carries (producer
 * side) and a `process` span per attempt that links to it (worker side).
 *
 * `@opentelemetry/api` is an optional peer. It is loaded once, by `loadTracing()` (Spool.open and
 * Spool.connect await it); when it cannot be loaded, tracing is off for the life of the process:
 * nothing else is loaded and a job costs one null check. Loaded, the API answers with no-op spans
 * and invalid contexts until an SDK registers a tracer provider, so nothing is stored or recorded
 * then either.
 *
 * The API's types are imported as types only: erased, they load nothing, and no exported
 * signature names them, so the published .d.ts files do not need the package.
 */
import type * as Otel from '@opentelemetry/api';
import { packageVersion } from '../cli/version.ts';
import type { Job, JobTrace } from '../core/job.ts';
import { TRACESTATE_MAX } from '../core/trace-context.ts';

/** The API once loaded; null while it is not (never tried, absent, or failed to load). */
let api: typeof Otel | null = null;
let loading: Promise<void> | null = null;
/** The instrumentation scope of Spool's spans: the package and its version. */
const SCOPE = 'spool-queue';
let scopeVersion: string | undefined;

/**
 * Loads `@opentelemetry/api` if the application can import it, once per process; later calls
 * return the same promise. Never rejects: tracing is optional, so a failure turns it off.
 */
export function loadTracing(): Promise<void> {
  loading ??= import('@opentelemetry/api').then(
    (m) => {
      // An old CommonJS build may expose its exports only as the default export.
      const loaded = ((m as { trace?: unknown }).trace ? m : (m as { default?: unknown }).default) as typeof Otel | undefined;
      if (!loaded?.trace || !loaded.context) return;
      try {
        scopeVersion = packageVersion();
      } catch {
        scopeVersion = undefined; // a scope without a version is still a scope
      }
      api = loaded;
    },
    (err: unknown) => {
      // Not installed: the expected case when the application does not trace. Anything else
      // (a broken install) is worth a warning, but never a failed open.
      if ((err as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND') {
        process.emitWarning(`spool: tracing is off: @opentelemetry/api could not be loaded (${(err as Error)?.message ?? String(err)})`);
      }
    },
  );
  return loading;
}

/**
 * The W3C trace context of the span active here, or null when tracing is off or no span is
 * active (as when no SDK is registered: the context then holds no valid span). Spool writes the
 * format itself rather than through the registered propagator, so that a job's context has one
 * format whatever propagators the producer and the worker use (W3C, B3, none).
 */
export function activeTrace(): JobTrace | null {
  if (api === null) return null;
  const sc = api.trace.getSpanContext(api.context.active());
  if (sc === undefined || !api.isSpanContextValid(sc)) return null;
  // The API accepts ids in either case; the W3C form, and so the stored one, is lowercase.
  const traceparent = `00-${sc.traceId.toLowerCase()}-${sc.spanId.toLowerCase()}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const tracestate = fitTraceState(sc.traceState?.serialize() ?? '');
  return tracestate === '' ? { traceparent } : { traceparent, tracestate };
}

/**
 * A tracestate cut to what a job keeps: whole entries from the front (the most recently
 * updated, by the specification) while they fit, which is how the specification truncates.
 */
function fitTraceState(tracestate: string): string {
  if (tracestate.length <= TRACESTATE_MAX) return tracestate;
  let kept = '';
  for (const entry of tracestate.split(',')) {
    const next = kept === '' ? entry : `${kept},${entry}`;
    if (next.length > TRACESTATE_MAX) break;
    kept = next;
  }
  return kept;
}

/** A worker's span for one attempt at a job. */
export interface ProcessSpan {
  /** Runs `fn` with the span active, so the spans `fn` starts (and those of what it awaits) are its children. */
  run<T>(fn: () => T): T;
  /** Ends the span, with status ERROR and the error recorded when the attempt failed. Later calls do nothing. */
  end(failure?: { error: unknown }): void;
}

/**
 * Starts the `process <queue>` span of one attempt at `job` (OpenTelemetry's messaging
 * conventions: kind CONSUMER, `messaging.*` attributes), linked to the context the job was added
 * in. A link, not a parent: the producer's trace ends when the job is stored, and a job may run
 * much later, several times, so each attempt is a trace of its own that points back to it.
 * @returns null when tracing is off or no SDK is registered (nothing to run inside or end).
 */
export function startProcessSpan(queue: string, job: Job): ProcessSpan | null {
  if (api === null) return null;
  const otel = api;
  const link = job.trace === null ? null : linkTo(otel, job.trace);
  const span = otel.trace.getTracer(SCOPE, scopeVersion).startSpan(`process ${queue}`, {
    kind: otel.SpanKind.CONSUMER,
    // Never a child of the context the job was delivered in: in this process that can be the
    // producer's own (the add woke the dispatcher), and then the link would be a parent after all.
    root: true,
    links: link === null ? [] : [link],
    attributes: {
      'messaging.system': 'spool',
      'messaging.destination.name': queue,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': job.id,
      'messaging.spool.job.name': job.name,
      'messaging.spool.job.attempt': job.attempt,
    },
  });
  // No SDK registered: a no-op span with an invalid context, which nothing would record.
  if (!otel.isSpanContextValid(span.spanContext())) return null;
  // On the root context, so that nothing of the delivering context (the producer's, in this process) reaches the handler.
  const active = otel.trace.setSpan(otel.ROOT_CONTEXT, span);
  let ended = false;
  return {
    run: (fn) => otel.context.with(active, fn),
    end: (failure) => {
      if (ended) return;
      ended = true;
      if (failure) {
        const error = failure.error;
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: otel.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      span.end();
    },
  };
}

/** A link to a stored trace context (checked well-formed when the job was added). */
function linkTo(otel: typeof Otel, trace: JobTrace): Otel.Link | null {
  const [, traceId, spanId, flags] = trace.traceparent.split('-');
  if (traceId === undefined || spanId === undefined || flags === undefined) return null;
  const context: Otel.SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 0xff, isRemote: true };
  // createTraceState is missing from the oldest 1.x APIs: with one of those, the link has no vendor entries.
  if (trace.tracestate !== undefined && typeof otel.createTraceState === 'function') context.traceState = otel.createTraceState(trace.tracestate);
  return otel.isSpanContextValid(context) ? { context } : null;
}
