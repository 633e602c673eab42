/**
 * Trace propagation through jobs with a real OpenTelemetry SDK (an in-memory exporter and an
 * AsyncLocalStorage context manager, as an application registers them): the producer's span
 * context is stored with the job, in this process and through a broker, and each attempt's
 * `process` span links to it — a link, never a parent — with the handler's spans as its
 * children. Without a registered SDK nothing is stored. (Without @opentelemetry/api at all:
 * tracing-absent.test.ts.)
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { InvalidArgumentError, JobTimeoutError } from '../core/errors.ts';
import { ManualClock } from '../core/clock.ts';
import type { Job, JobTrace } from '../core/job.ts';
import { Spool } from '../engine/spool.ts';
import { toAddItem } from '../protocol/frames.ts';
import { quiet, served } from '../../test/support/remote.ts';

const tracer = () => trace.getTracer('tracing.test');
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** Runs `fn` inside an active span named `produce`, ended when `fn` settles; returns both. */
async function produced<T>(fn: () => Promise<T>): Promise<{ value: T; span: Span }> {
  return tracer().startActiveSpan('produce', async (span) => {
    try {
      return { value: await fn(), span };
    } finally {
      span.end();
    }
  });
}

/** The W3C traceparent of a span, as Spool stores it (sampled: the SDK's default sampler records everything). */
const traceparentOf = (span: Span): string => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

async function memorySpool(t: TestContext, options: Parameters<typeof Spool.open>[0] = {}): Promise<Spool> {
  const spool = await Spool.open({ store: 'memory', ...quiet, ...options });
  t.after(() => spool.close());
  return spool;
}

describe('tracing without a registered SDK', () => {
  it('stores no trace context and runs handlers as usual', async (t) => {
    const spool = await memorySpool(t);
    const worker = spool.work('plain', () => 'done');
    // The API alone: its tracer makes no-op spans, whose context is not valid.
    const { value: job } = await produced(() => spool.queue('plain').add(1));
    assert.equal(job.trace, null);
    await once(worker, 'completed');
    const stored = await spool.get(job.id);
    assert.deepEqual([stored.state, stored.trace], ['completed', null]);
  });
});

describe('tracing with an SDK registered', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  before(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  // node --test runs each file in a process of its own; unregistered all the same, so nothing outlives this suite.
  after(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  /** The one finished span named `name`. */
  const only = (name: string): ReadableSpan => {
    const found = exporter.getFinishedSpans().filter((s) => s.name === name);
    assert.equal(found.length, 1, `one span named ${name}; finished: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
    return found[0]!;
  };

  /** The process span of `job` links to `producer` (and only to it) and starts a trace of its own. */
  const assertLinked = (processSpan: ReadableSpan, producer: Span, job: Job): void => {
    const p = producer.spanContext();
    assert.equal(processSpan.kind, SpanKind.CONSUMER);
    assert.deepEqual(processSpan.links.map((l) => [l.context.traceId, l.context.spanId]), [[p.traceId, p.spanId]]);
    assert.equal(processSpan.parentSpanContext, undefined, 'a root span: the producer is linked, not its parent');
    assert.notEqual(processSpan.spanContext().traceId, p.traceId, 'a trace of its own');
    assert.deepEqual(processSpan.attributes, {
      'messaging.system': 'spool',
      'messaging.destination.name': job.queue,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': job.id,
      'messaging.spool.job.name': job.name,
      'messaging.spool.job.attempt': 1,
    });
  };

  /** `child` was started inside `parent`: same trace, parent's span id. */
  const assertChildOf = (child: ReadableSpan, parent: ReadableSpan): void => {
    assert.equal(child.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(child.parentSpanContext?.spanId, parent.spanContext().spanId);
  };

  it('in this process: the job carries the producer span, the process span links to it, the handler’s spans are its children', async (t) => {
    const spool = await memorySpool(t);
    // Started inside a span, as an application's start-up code may: its deliveries run in that
    // context, which the process spans must not take as their parent either.
    const worker = tracer().startActiveSpan('start-up', (span) => {
      span.end();
      return spool.work('emails', async () => tracer().startActiveSpan('send', (send) => send.end()));
    });
    const { value: job, span: producer } = await produced(() => spool.queue('emails').add({ to: 'a@example.com' }, { name: 'welcome' }));
    assert.deepEqual(job.trace, { traceparent: traceparentOf(producer) });
    await once(worker, 'completed');
    assert.deepEqual((await spool.get(job.id)).trace, job.trace, 'as stored');
    const processSpan = only('process emails');
    assertLinked(processSpan, producer, job);
    assert.equal(processSpan.status.code, SpanStatusCode.UNSET);
    assertChildOf(only('send'), processSpan);
  });

  it('through a broker: the client takes the context in its own process and the remote worker links to it', async (t) => {
    const { spool, remote } = await served(t);
    const worker = remote.work('emails', async () => tracer().startActiveSpan('send', (span) => span.end()));
    const { value: job, span: producer } = await produced(() => remote.queue('emails').add({ to: 'a@example.com' }));
    assert.deepEqual(job.trace, { traceparent: traceparentOf(producer) });
    await once(worker, 'completed');
    assert.deepEqual((await remote.get(job.id)).trace, job.trace);
    assert.deepEqual((await spool.get(job.id)).trace, job.trace, 'as the broker stored it');
    const processSpan = only('process emails');
    assertLinked(processSpan, producer, job);
    assertChildOf(only('send'), processSpan);

    // An atomic addMany reads the context once, for every job of the call.
    const { value: jobs, span: batch } = await produced(() => remote.queue('emails').addMany([{ payload: 1 }, { payload: 2, trace: null }]));
    assert.deepEqual(jobs.map((j) => j.trace), [{ traceparent: traceparentOf(batch) }, null]);
  });

  it('a failing handler ends its span with status ERROR and the exception recorded', async (t) => {
    const spool = await memorySpool(t);
    await spool.queue('fails').configure({ maxAttempts: 1 });
    const worker = spool.work('fails', () => {
      throw new Error('smtp refused');
    });
    const { span: producer, value: job } = await produced(() => spool.queue('fails').add(1));
    await once(worker, 'failed');
    const processSpan = only('process fails');
    assertLinked(processSpan, producer, job);
    assert.deepEqual(processSpan.status, { code: SpanStatusCode.ERROR, message: 'smtp refused' });
    assert.deepEqual(processSpan.events.map((e) => [e.name, e.attributes?.['exception.message']]), [['exception', 'smtp refused']]);
  });

  it('an attempt past its timeoutMs ends its span with ERROR then, once, whatever the handler does later', async (t) => {
    const clock = new ManualClock();
    const spool = await memorySpool(t, { clock });
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let finish!: () => void;
    const late = new Promise<void>((resolve) => (finish = resolve));
    const worker = spool.work('slow', async () => {
      started();
      await late; // ignores its signal: returns long after the deadline
    });
    await spool.queue('slow').add(1, { timeoutMs: 1000 });
    await running;
    const failed = once(worker, 'failed');
    await clock.advance(1000);
    await failed;
    const processSpan = only('process slow');
    assert.equal(processSpan.status.code, SpanStatusCode.ERROR);
    assert.match(processSpan.status.message ?? '', /ran longer than its timeoutMs of 1000 ms/);
    // The SDK names an error's type by its `code` when it has one.
    assert.deepEqual(processSpan.events.map((e) => [e.name, e.attributes?.['exception.type']]), [['exception', new JobTimeoutError('x', 1).code]]);
    finish();
    await worker.close();
    assert.equal(exporter.getFinishedSpans().filter((s) => s.name === 'process slow').length, 1, 'ended once');
  });

  it('the trace option: a given context is stored as given and linked (with its tracestate); null stores none', async (t) => {
    const spool = await memorySpool(t);
    const given: JobTrace = { traceparent: TRACEPARENT, tracestate: 'vendor=abc,other=1' };
    const worker = spool.work('given', () => undefined);
    // Inside a span: the option wins over the active context.
    const { value: jobs } = await produced(() => Promise.all([spool.queue('given').add(1, { trace: given }), spool.queue('given').add(2, { trace: null })]));
    assert.deepEqual(jobs.map((j) => j.trace), [given, null]);
    assert.deepEqual((await spool.get(jobs[0]!.id)).trace, given);
    const completed: Job[] = [];
    worker.on('completed', (job: Job) => completed.push(job));
    while (completed.length < 2) await once(worker, 'completed');
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'process given');
    const linkOf = (id: string) => spans.find((s) => s.attributes['messaging.message.id'] === id)!.links;
    const [link] = linkOf(jobs[0]!.id);
    assert.deepEqual([link?.context.traceId, link?.context.spanId, link?.context.traceFlags, link?.context.traceState?.serialize()],
      ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 1, 'vendor=abc,other=1']);
    assert.deepEqual(linkOf(jobs[1]!.id), [], 'no context: a process span without a link');
  });

  it('a malformed trace is refused naming the field, by the engine, the client and the HTTP API alike', async (t) => {
    const { spool, remote, broker } = await served(t);
    const bad: [unknown, string][] = [
      [{ traceparent: 'not-a-traceparent' }, 'trace.traceparent'],
      [{ traceparent: TRACEPARENT.replace('4bf92f3577b34da6a3ce929d0e0e4736', '0'.repeat(32)) }, 'trace.traceparent'],
      [{ traceparent: TRACEPARENT.toUpperCase() }, 'trace.traceparent'],
      [{ traceparent: TRACEPARENT, tracestate: 'a=b,'.repeat(129) }, 'trace.tracestate'],
      [{ traceparent: TRACEPARENT, tracestate: 'a=\u0000' }, 'trace.tracestate'],
      [{ traceparnt: TRACEPARENT }, 'trace.traceparnt'],
      [{}, 'trace.traceparent'],
      ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'trace'],
    ];
    for (const [trace, field] of bad) {
      for (const api of [spool, remote]) {
        await assert.rejects(api.queue('q').add(1, { trace: trace as JobTrace }), (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError, String(err));
          assert.equal(err.field, field, `${JSON.stringify(trace)}: ${err.message}`);
          return true;
        });
      }
      const res = await fetch(`${broker.url}/v1/queues/q/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payload: 1, trace }) });
      const body = (await res.json()) as { code: string; field: string; message: string };
      assert.deepEqual([res.status, body.code, body.field], [400, 'INVALID_ARGUMENT', field], body.message);
    }
    const misspelt = await spool.queue('q').add(1, { trace: { traceparnt: TRACEPARENT } as never }).catch((err: Error) => err.message);
    assert.match(String(misspelt), /did you mean "traceparent"\?/);
  });

  it('HTTP: a trace field is stored as given; without one, the context active in the broker (none here)', async (t) => {
    const { broker } = await served(t);
    const post = async (body: object) =>
      (await (await fetch(`${broker.url}/v1/queues/http/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Job;
    const given = { traceparent: TRACEPARENT, tracestate: 'vendor=abc' };
    assert.deepEqual((await post({ payload: 1, trace: given })).trace, given);
    assert.equal((await post({ payload: 2 })).trace, null);
    assert.deepEqual((await post({ jobs: [{ payload: 3, trace: given }, { payload: 4, trace: null }] }) as unknown as { jobs: Job[] }).jobs.map((j) => j.trace), [given, null]);

    // Without a body field, the request's own traceparent header (as HTTP instrumentation sends it).
    const withHeaders = async (body: object, headers: Record<string, string>) =>
      (await (await fetch(`${broker.url}/v1/queues/http/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })).json()) as Job & { jobs?: Job[] };
    const other = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    assert.deepEqual((await withHeaders({ payload: 5 }, { traceparent: other, tracestate: 'congo=t61' })).trace, { traceparent: other, tracestate: 'congo=t61' });
    assert.deepEqual((await withHeaders({ payload: 6, trace: given }, { traceparent: other })).trace, given, 'the body wins');
    assert.deepEqual((await withHeaders({ jobs: [{ payload: 7 }, { payload: 8, trace: null }] }, { traceparent: other })).jobs!.map((j) => j.trace), [{ traceparent: other }, null]);
    const malformed = await withHeaders({ payload: 9 }, { traceparent: 'not-a-traceparent' });
    assert.equal(malformed.trace, null, 'a malformed header is ignored, not refused');
  });

  it('over WebSocket, a job published without a context gets none, never the context the broker runs in', async (t) => {
    // The broker hands a published job to its engine with trace: null, so the engine does not take
    // whatever context the frame happens to be handled in for the producer's.
    assert.deepEqual(toAddItem({ payload: 1 }), { payload: 1, trace: null });
    assert.deepEqual(toAddItem({ payload: 1, trace: { traceparent: TRACEPARENT } }), { payload: 1, trace: { traceparent: TRACEPARENT } });
    const { spool, remote } = await served(t);
    const job = await remote.queue('ws').add(1); // no span active in the client: nothing travels
    assert.equal(job.trace, null);
    assert.equal((await spool.get(job.id)).trace, null);
  });
});
