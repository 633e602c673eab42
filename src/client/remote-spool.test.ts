/**
 * The remote client against real brokers on loopback sockets: the same API and the same
 * worker runtime as an in-process Spool, errors rebuilt as the same classes, reconnects
 * across broker URLs with leases kept, a clear failure when no broker answers
 * (backpressure: backpressure.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidArgumentError, InvalidStateError, JobNotFoundError, PayloadTooLargeError, SpoolError, StaleLeaseError,
} from '../core/errors.ts';
import type { Job } from '../core/job.ts';
import { Spool } from '../engine/spool.ts';
import { connect } from './connect.ts';
import type { RemoteSpool } from './remote-spool.ts';
import { freePort } from '../../test/support/ports.ts';
import { gate, quiet, served, twoBrokersOnOneFile, waitFor } from '../../test/support/remote.ts';

type Api = Spool | RemoteSpool;

/** An outcome as comparable data: ids and times replaced, errors as class, code, fields and message. */
function normalizer() {
  const ids = new Map<string, string>();
  const idOf = (id: string) => {
    if (!ids.has(id)) ids.set(id, `#${ids.size + 1}`);
    return ids.get(id)!;
  };
  const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}/g;
  const TIMES = new Set(['createdAt', 'updatedAt', 'runAt', 'finishedAt', 'leaseExpiresAt', 'oldestReadyAgeMs', 'startedAt', 'endedAt']);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(UUID, idOf);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, TIMES.has(k) ? (typeof x === 'number' ? 'time' : x) : walk(x)]));
    }
    return v;
  };
  return async (run: () => Promise<unknown>): Promise<unknown> => {
    try {
      const value = await run();
      return { ok: walk(JSON.parse(JSON.stringify(value ?? null))) };
    } catch (err) {
      const e = err as SpoolError & Record<string, unknown>;
      return {
        error: e.constructor.name,
        code: e.code,
        message: walk(e.message),
        ...Object.fromEntries(['field', 'jobId', 'currentState', 'sizeBytes', 'limitBytes'].filter((k) => e[k] !== undefined).map((k) => [k, walk(e[k])])),
      };
    }
  };
}

/** The same calls, in the same order, on any Spool; returns each call's normalised outcome by name. */
async function scenario(api: Api): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const n = normalizer();
  const q = api.queue<unknown>('parity');
  const step = async (name: string, run: () => Promise<unknown>) => {
    out[name] = await n(run);
  };
  const first = await q.add({ n: 1 }, { priority: 3, name: 'first', maxAttempts: 4 });
  out['add'] = await n(async () => first);
  const later = await q.add({ n: 2 }, { delayMs: 60_000 });
  out['add delayed'] = await n(async () => later);
  const many = await q.addMany([{ payload: 'a' }, { payload: 'b', priority: -1 }, { payload: 'c', name: 'third' }]);
  out['addMany'] = await n(async () => many);
  await step('addMany atomic refusal', () => q.addMany([{ payload: 'ok' }, { payload: 'bad', delayMs: -1 }]));
  await step('add bad option', () => q.add('x', { priority: 1.5 }));
  await step('add bad queue name', () => api.add('bad name', 1));
  await step('add too large', () => q.add('x'.repeat(5000)));
  await step('add NaN', () => q.add({ score: NaN }));
  await step('add U+0000', () => q.add({ text: 'a\u0000b' }));
  await step('add BigInt', () => q.add({ n: 1n }));
  await step('addMany with a lone surrogate', () => q.addMany([{ payload: 'ok' }, { payload: ['\ud800'] }]));
  await step('get', () => api.get(first.id));
  await step('get unknown', () => api.get('01900000-0000-7000-8000-000000000000'));
  await step('get not an id', () => api.get('not-an-id'));
  await step('list', () => q.list());
  await step('list ready, page 1', () => q.list({ state: 'ready', limit: 2 }));
  await step('list ready, page 2', async () => q.list({ state: 'ready', limit: 2, after: (await q.list({ state: 'ready', limit: 2 }))[1]!.id }));
  await step('list bad limit', () => q.list({ limit: 0 }));
  await step('stats queue', () => api.stats('parity'));
  await step('stats all', () => api.stats());
  await step('configure', () => q.configure({ maxAttempts: 7, backoff: { type: 'fixed', delayMs: 10 } }));
  await step('configure bad', () => q.configure({ visibilityTimeoutMs: 1 }));
  await step('configure unknown key', () => q.configure({ nope: 1 } as never));
  await step('config', () => q.config());
  await step('config of a bad queue name', () => api.queueConfig('bad name'));
  await step('pause', () => q.pause());
  await step('stats paused', () => q.stats());
  await step('resume', () => q.resume());
  await step('stats resumed', () => q.stats());
  await step('cancel', () => api.cancel(many[0]!.id));
  await step('cancelled job', () => api.get(many[0]!.id));
  await step('cancel again', () => api.cancel(many[0]!.id));
  await step('cancel unknown', () => api.cancel('01900000-0000-7000-8000-000000000000'));
  await step('retry cancelled', () => api.retry(many[0]!.id));
  await step('retry ready', () => api.retry(many[0]!.id));
  await step('retry scheduled', () => api.retry(later.id));
  await step('retried scheduled job', () => api.get(later.id));
  await step('ack stale lease', () => api.ack({ jobId: first.id, token: 99 }));
  await step('nack stale lease', () => api.nack({ jobId: first.id, token: 99 }, 'no'));
  await step('extend stale lease', () => api.extend({ jobId: first.id, token: 99 }));
  await step('purge', () => q.purge());
  await step('stats purged', () => q.stats());
  return out;
}

describe('RemoteSpool (real broker, real sockets)', () => {
  it('every call behaves as the in-process Spool, errors rebuilt as the same classes', async (t) => {
    const local = await Spool.open({ store: 'memory', payloadMaxBytes: 4096, ...quiet });
    t.after(() => local.close());
    const { remote } = await served(t, {}, { payloadMaxBytes: 4096 });
    const expected = await scenario(local);
    const actual = await scenario(remote);
    for (const name of Object.keys(expected)) assert.deepEqual(actual[name], expected[name], name);
    assert.deepEqual(Object.keys(actual), Object.keys(expected));

    // The classes themselves, not just their names: callers branch with instanceof.
    const unknown = '01900000-0000-7000-8000-000000000000';
    await assert.rejects(remote.get(unknown), (e) => e instanceof JobNotFoundError && e.jobId === unknown);
    await assert.rejects(remote.get('nope'), (e) => e instanceof InvalidArgumentError && e.field === 'jobId');
    await assert.rejects(remote.queue('x').add(1, { delayMs: -1 }), (e) => e instanceof InvalidArgumentError && e.field === 'delayMs');
    await assert.rejects(remote.queue('x').add('x'.repeat(5000)), (e) => e instanceof PayloadTooLargeError && e.limitBytes === 4096);
    const job = await remote.queue('x').add(1);
    await assert.rejects(remote.ack({ jobId: job.id, token: 5 }), (e) => e instanceof StaleLeaseError && e.jobId === job.id && e.currentState === 'ready');
    await remote.cancel(job.id);
    await assert.rejects(remote.cancel(job.id), (e) => e instanceof InvalidStateError && e.currentState === 'cancelled');
  });

  it('addMany answers each job as the broker stored it (the compact confirm rebuilt), duplicates whole', async (t) => {
    const { spool, remote } = await served(t);
    await remote.queue('confirm').add('held', { uniqueKey: 'u' });
    const items = [
      { payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 }, priority: 4, name: 'other', delayMs: 60_000 },
      { payload: { n: 4 }, requires: ['gpu'] }, { payload: { n: 5 }, uniqueKey: 'u' }, { payload: { n: 6 } },
    ];
    const jobs = await remote.queue('confirm').addMany(items);
    const stored = await Promise.all(jobs.map((j) => spool.get(j.id)));
    assert.deepEqual(jobs.map(({ duplicate: _d, ...j }) => j), stored);
    assert.deepEqual(jobs.map((j) => j.duplicate === true), [false, false, false, false, true, false]);
    assert.equal(jobs[4]!.payload, 'held', 'a duplicate is the holding job, with its payload');
    jobs[0]!.requires.push('mutated');
    assert.deepEqual(jobs[1]!.requires, [], 'each job has objects of its own');
  });

  it('a remote worker runs each job once and stores its result', async (t) => {
    const { spool, remote } = await served(t);
    const jobs = await remote.queue<number>('work').addMany(Array.from({ length: 200 }, (_, i) => ({ payload: i })));
    const seen: number[] = [];
    let running = 0;
    let runningMax = 0;
    const worker = remote.work<number, number>('work', async (job) => {
      running++;
      runningMax = Math.max(runningMax, running);
      seen.push(job.payload);
      await new Promise((r) => setImmediate(r));
      running--;
      return job.payload * 2;
    }, { concurrency: 8 });
    let completed = 0;
    worker.on('completed', () => completed++);
    await waitFor('200 completions', () => completed === 200);
    assert.deepEqual(seen.toSorted((a, b) => a - b), jobs.map((j) => j.payload));
    assert.ok(runningMax <= 8 && runningMax > 1, `ran up to ${runningMax} at once with concurrency 8`);
    assert.equal((await spool.stats('work'))[0]!.counts.completed, 200);
    assert.equal((await remote.get(jobs[17]!.id)).result, 34);
  });

  it('a failing handler is nacked, retried after its backoff, and dead after maxAttempts', async (t) => {
    const { spool, remote } = await served(t, {}, { maintenanceIntervalMs: 10 });
    await remote.queue('fail').configure({ maxAttempts: 3, backoff: { type: 'fixed', delayMs: 150 } });
    const job = await remote.queue('fail').add({ doomed: true });
    const startedAt: number[] = [];
    const worker = remote.work('fail', async (j) => {
      startedAt.push(Date.now());
      throw new Error(`attempt ${j.attempt} failed`);
    });
    const states: string[] = [];
    const dead = new Promise<void>((resolve) => worker.on('failed', (_job: Job, err: Error, state: string) => {
      assert.match(err.message, /^attempt \d failed$/);
      states.push(state);
      if (state === 'dead') resolve();
    }));
    await dead;
    assert.deepEqual(states, ['scheduled', 'scheduled', 'dead']);
    assert.equal(startedAt.length, 3);
    for (let i = 1; i < 3; i++) assert.ok(startedAt[i]! - startedAt[i - 1]! >= 140, `attempt ${i + 1} came ${startedAt[i]! - startedAt[i - 1]!} ms after attempt ${i}, before the 150 ms backoff`);
    const final = await spool.get(job.id);
    assert.equal(final.state, 'dead');
    assert.equal(final.deadReason, 'max-attempts');
    // The text an in-process worker keeps: the stack, headed by the error's name and message.
    assert.match(final.lastError!, /^Error: attempt 3 failed\n\s+at /);
    assert.deepEqual(final.history.map((h) => [h.attempt, h.outcome, h.error!.split('\n')[0]]), [[1, 'failed', 'Error: attempt 1 failed'], [2, 'failed', 'Error: attempt 2 failed'], [3, 'failed', 'Error: attempt 3 failed']]);
  });

  it('cancelling a running job aborts the remote handler with a StaleLeaseError (revoke frame)', async (t) => {
    const { spool, remote } = await served(t);
    const started = gate();
    let reason: unknown = null;
    const aborted = gate();
    const worker = remote.work('cancel', async (_job, { signal }) => {
      started.open();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      reason = signal.reason;
      aborted.open();
      return 'finished anyway';
    });
    const errors: unknown[] = [];
    worker.on('error', (err) => errors.push(err));
    const job = await remote.queue('cancel').add({});
    await started.promise;
    await remote.cancel(job.id);
    await aborted.promise;
    assert.ok(reason instanceof StaleLeaseError, `the signal's reason is ${String(reason)}`);
    assert.equal(reason.currentState, 'cancelled');
    assert.equal(reason.jobId, job.id);
    // The handler returned after the abort: its result must not be acked over the cancellation.
    await worker.close();
    const final = await spool.get(job.id);
    assert.equal(final.state, 'cancelled');
    assert.equal(final.result, null);
    assert.deepEqual(errors, []);
  });

  it('reconnects to the next broker URL; requests made meanwhile complete and a lease from the first connection is acked on the second', async (t) => {
    const { spoolB, a, b, close } = await twoBrokersOnOneFile();
    const logged: string[] = [];
    const release = gate();
    // random() = 1: the reconnect waits its full 150 ms, a window in which to make requests while disconnected.
    const remote = await connect([a.wsUrl, b.wsUrl], { ...quiet, log: (line) => logged.push(line), reconnectBaseMs: 150, reconnectMaxMs: 150, random: () => 1 });
    t.after(async () => {
      release.open(); // a failed assertion must not leave the handler waiting through the shutdown timeout
      await remote.close();
      await close();
    });
    assert.deepEqual([a.connections, b.connections], [1, 0]);

    const delivered: string[] = [];
    const worker = remote.work('rc', async (job) => {
      delivered.push(job.id);
      if (delivered.length === 1) await release.promise;
      return `done ${job.id}`;
    });
    const first = await remote.queue('rc').add('first');
    await waitFor('the first delivery', () => delivered.length === 1);

    await a.close();
    await waitFor('health to go down', () => !remote.health().healthy);
    assert.match(remote.health().reason!, /lost the connection/);
    // Made while no broker is connected: each waits for the reconnect, then completes.
    const second = remote.queue('rc').add('second');
    const fresh = remote.queue('rc-new').add('a queue this client never used');
    const many = remote.queue('rc-new').addMany([{ payload: 1 }, { payload: 2 }]);
    const got = remote.get(first.id);
    assert.equal(remote.health().healthy, false, 'still reconnecting while the requests were made');

    await waitFor('health to come back', () => remote.health().healthy);
    assert.deepEqual([a.connections, b.connections], [0, 1]);
    assert.equal((await second).state, 'ready');
    assert.equal((await fresh).queue, 'rc-new');
    assert.equal((await many).length, 2);
    assert.equal((await got).state, 'active');

    // The job delivered on the first connection is still leased to this client: its ack goes through B.
    const completed = new Promise<Job>((resolve) => worker.on('completed', (job: Job) => job.id === first.id && resolve(job)));
    release.open();
    await completed;
    const done = await spoolB.get(first.id);
    assert.equal(done.state, 'completed');
    assert.equal(done.result, `done ${first.id}`);
    assert.deepEqual(done.history.map((h) => h.outcome), ['completed'], 'acked on its first lease: never redelivered');
    // The subscription was opened again on B: the job added while disconnected runs there.
    await waitFor('the second job to complete', async () => (await spoolB.get((await second).id)).state === 'completed');
    assert.equal(delivered.length, 2);
    assert.equal(logged.filter((l) => /unhealthy/.test(l)).length, 1, logged.join('\n'));
    assert.equal(logged.filter((l) => /healthy again/.test(l)).length, 1, logged.join('\n'));
  });

  it('connect() with no broker reachable rejects within connectTimeoutMs, naming the URLs', async () => {
    const ports = [await freePort(), await freePort()];
    const urls = ports.map((p) => `ws://127.0.0.1:${p}/v1/ws`);
    const t0 = Date.now();
    await assert.rejects(connect(urls, { ...quiet, connectTimeoutMs: 300, reconnectBaseMs: 10, reconnectMaxMs: 20 }), (err: SpoolError) => {
      assert.equal(err.code, 'UNAVAILABLE');
      assert.match(err.message, new RegExp(`could not reach a broker at ${urls[0]!.replaceAll('.', '\\.')}, ${urls[1]!.replaceAll('.', '\\.')} within 300 ms; the last attempt failed: .*ECONNREFUSED.*is \`spool serve\` running there\?`));
      return true;
    });
    const tookMs = Date.now() - t0;
    assert.ok(tookMs >= 290 && tookMs < 1_500, `gave up after ${tookMs} ms`);
  });

  it('close() waits for the last acks, then later calls fail with ClosedError', async (t) => {
    const { spool, remote } = await served(t);
    const job = await remote.queue('closing').add(1);
    const started = gate();
    const finish = gate();
    remote.work('closing', async () => {
      started.open();
      await finish.promise;
      return 'late';
    });
    await started.promise;
    const closed = remote.close();
    finish.open();
    await closed;
    assert.equal((await spool.get(job.id)).state, 'completed');
    await assert.rejects(remote.get(job.id), (e: SpoolError) => e.code === 'CLOSED');
  });
});
