import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { UnrecoverableError } from '../core/errors.ts';
import type { HealthStatus } from '../core/health.ts';
import { Spool } from '../engine/spool.ts';
import type { Overview } from '../model/overview.ts';
import { parsePrometheusText, sampleValue, type Family } from '../../test/support/prometheus-text.ts';
import { quiet, served, waitFor } from '../../test/support/remote.ts';
import { Authenticator } from './auth/authenticator.ts';
import { createToken } from './auth/tokens.ts';
import { startBroker } from './broker.ts';
import { QueueLabels } from './metrics-labels.ts';
import { StateMetrics } from './metrics-state.ts';

// GET /metrics of a real broker, parsed strictly as Prometheus text (test/support/prometheus-text.ts).

/** Every family of the broker's own, with its type; the process's are `spool_process_*` and `spool_nodejs_*`. */
const BROKER_FAMILIES: Record<string, Family['type']> = {
  spool_jobs_added_total: 'counter',
  spool_jobs_claimed_total: 'counter',
  spool_jobs_completed_total: 'counter',
  spool_jobs_failed_total: 'counter',
  spool_jobs_dead_total: 'counter',
  spool_leases_expired_total: 'counter',
  spool_jobs_dropped_total: 'counter',
  spool_publishes_total: 'counter',
  spool_claim_duration_seconds: 'histogram',
  spool_job_queued_seconds: 'histogram',
  spool_job_turnaround_seconds: 'histogram',
  spool_queue_jobs: 'gauge',
  spool_queue_oldest_ready_age_seconds: 'gauge',
  spool_queue_paused: 'gauge',
  spool_queue_arrival_rate: 'gauge',
  spool_queue_completion_rate: 'gauge',
  spool_queue_failure_rate: 'gauge',
  spool_queue_consumer_slots: 'gauge',
  spool_queue_utilisation_ratio: 'gauge',
  spool_queue_mean_wait_seconds: 'gauge',
  spool_queue_max_length: 'gauge',
  spool_store_healthy: 'gauge',
  spool_store_outages_total: 'counter',
  spool_broker_connections: 'gauge',
  spool_clock_offset_seconds: 'gauge', // the process's, with the default collectors (metrics-process.ts)
};
const isProcessFamily = (name: string) => name.startsWith('spool_process_') || name.startsWith('spool_nodejs_');
const STATES = ['scheduled', 'ready', 'active', 'completed', 'dead', 'cancelled'] as const;

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Map<string, Family>> {
  const res = await fetch(`${url}/metrics`, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(text);
}

const value = (f: Map<string, Family>, family: string, labels: Record<string, string> = {}, sample = family) => sampleValue(f, family, sample, labels);
/** The values of the `queue` label in a family. */
const queuesIn = (f: Map<string, Family>, family: string) => new Set(f.get(family)!.samples.map((s) => s.labels.queue));

describe('GET /metrics', () => {
  it('counts what the broker did, shows the stats, and describes each family as docs/operations.md lists it', async (t) => {
    const { spool, broker, remote } = await served(t);
    // A failed attempt is retried an hour later: not within this test.
    await spool.configureQueue('emails', { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 3_600_000 } });
    const kinds = ['ok', 'ok', 'ok', 'ok', 'dead', 'dead', 'retry'];
    const added = await remote.queue<{ kind: string }>('emails').addMany(kinds.map((kind) => ({ payload: { kind } })));
    await remote.queue('reports').addMany([{ payload: 1 }, { payload: 2 }]);
    await remote.bind('audit.#', 'audit');
    for (const topic of ['audit.login', 'audit.logout', 'nobody.listens']) await remote.publish(topic, { topic });
    const worker = remote.queue<{ kind: string }>('emails').work(async (job) => {
      if (job.payload.kind === 'dead') throw new UnrecoverableError('cannot be sent');
      if (job.payload.kind === 'retry') throw new Error('try later');
    }, { concurrency: 4 });
    await waitFor('every email job to settle', async () => {
      const [s] = await spool.stats('emails');
      return s!.counts.completed === 4 && s!.counts.dead === 2 && s!.counts.scheduled === 1 && s!.counts.active === 0;
    });
    await worker.close();

    // The gauges come from the overview, which may be up to a second old: wait for one read after the work.
    let m!: Map<string, Family>;
    await waitFor('the state gauges to show the settled jobs', async () => {
      m = await scrape(broker.url);
      return value(m, 'spool_queue_jobs', { queue: 'emails', state: 'completed' }) === 4;
    });
    for (const stats of await spool.stats()) {
      for (const state of STATES) assert.equal(value(m, 'spool_queue_jobs', { queue: stats.queue, state }), stats.counts[state], `${stats.queue} ${state}`);
      assert.equal(value(m, 'spool_queue_paused', { queue: stats.queue }), 0);
      assert.ok(value(m, 'spool_queue_oldest_ready_age_seconds', { queue: stats.queue })! >= 0);
    }
    assert.ok(value(m, 'spool_queue_oldest_ready_age_seconds', { queue: 'reports' })! > 0, 'two jobs of reports wait');

    // The counters, from the engine's telemetry.
    assert.equal(value(m, 'spool_jobs_added_total', { queue: 'emails' }), 7);
    assert.equal(value(m, 'spool_jobs_added_total', { queue: 'reports' }), 2);
    assert.equal(value(m, 'spool_jobs_claimed_total', { queue: 'emails' }), 7);
    assert.equal(value(m, 'spool_jobs_completed_total', { queue: 'emails' }), 4);
    assert.equal(value(m, 'spool_jobs_dead_total', { queue: 'emails' }), 2);
    assert.equal(value(m, 'spool_jobs_failed_total', { queue: 'emails' }), 1);
    assert.equal(value(m, 'spool_jobs_claimed_total', { queue: 'reports' }), undefined, 'nothing was claimed from reports');
    assert.equal(value(m, 'spool_leases_expired_total', { queue: 'emails' }), undefined, 'no lease expired');
    assert.deepEqual([value(m, 'spool_publishes_total', { routing: 'routed' }), value(m, 'spool_publishes_total', { routing: 'unrouted' })], [2, 1]);
    assert.equal(value(m, 'spool_jobs_added_total', { queue: 'audit' }), 2, 'each copy is an add of its queue');
    // The histograms: one wait per job claimed, one turnaround per completion, one duration per claim.
    assert.equal(value(m, 'spool_job_queued_seconds', { queue: 'emails' }, 'spool_job_queued_seconds_count'), 7);
    assert.equal(value(m, 'spool_job_turnaround_seconds', { queue: 'emails' }, 'spool_job_turnaround_seconds_count'), 4);
    const claims = value(m, 'spool_claim_duration_seconds', { queue: 'emails' }, 'spool_claim_duration_seconds_count')!;
    assert.ok(claims >= 1 && claims <= 7, `${claims} claims for 7 jobs`);
    assert.ok(value(m, 'spool_job_turnaround_seconds', { queue: 'emails' }, 'spool_job_turnaround_seconds_sum')! > 0);
    // The broker.
    assert.equal(value(m, 'spool_broker_connections'), 1, 'the test client');
    assert.equal(value(m, 'spool_store_healthy'), 1);
    assert.equal(value(m, 'spool_store_outages_total'), 0);
    assert.ok(value(m, 'spool_process_cpu_user_seconds_total')! > 0, 'the process metrics, prefixed');
    assert.ok(Math.abs(value(m, 'spool_clock_offset_seconds')!) < 0.05, 'the wall clock was not stepped');

    // Each family: the type it should have, a HELP, labels from a bounded set and never a job id.
    for (const [name, type] of Object.entries(BROKER_FAMILIES)) assert.equal(m.get(name)?.type, type, name);
    const ids = new Set(added.map((j) => j.id));
    for (const f of m.values()) {
      assert.ok(f.help.length > 10, `${f.name} has a HELP`);
      if (isProcessFamily(f.name)) continue;
      assert.ok(f.name in BROKER_FAMILIES, `${f.name} is a family the test knows`);
      for (const s of f.samples) {
        for (const [label, v] of Object.entries(s.labels)) {
          assert.ok(['queue', 'state', 'le', 'routing'].includes(label), `${s.name} has label ${label}`);
          assert.ok(!ids.has(v), `${s.name} has a job id as a label`);
        }
        if ('queue' in s.labels) assert.ok(['emails', 'reports', 'audit'].includes(s.labels.queue!), `${s.name}: queue ${s.labels.queue}`);
        if ('routing' in s.labels) assert.ok(['routed', 'unrouted'].includes(s.labels.routing!), `${s.name}: routing ${s.labels.routing}`);
      }
    }

    // docs/operations.md lists every family with its type, and no other.
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('\n## Metrics\n'), doc.indexOf('\n## ', doc.indexOf('\n## Metrics\n') + 1));
    const documented = new Map([...section.matchAll(/^\| `(spool_\w+)` \| (\w+) \|/gm)].map((r) => [r[1]!, r[2]!]));
    for (const f of m.values()) assert.equal(documented.get(f.name), f.type, `docs/operations.md, Metrics: ${f.name} (${f.type})`);
    for (const name of documented.keys()) if (!isProcessFamily(name)) assert.ok(m.has(name), `docs/operations.md lists ${name}, which the broker does not serve`);
  });

  it('labels at most metricsQueuesMax queues by name, the rest as _other; two brokers in one process count apart', async (t) => {
    const { spool, broker } = await served(t, { metricsQueuesMax: 2 });
    const other = await served(t);
    for (const [queue, n] of [['a', 1], ['b', 2], ['c', 4], ['d', 8]] as const) await spool.queue(queue).addMany(Array.from({ length: n }, (_, i) => ({ payload: i })));
    await other.spool.queue('a').add('elsewhere');

    let m!: Map<string, Family>;
    await waitFor('the gauges to show every queue', async () => {
      m = await scrape(broker.url);
      return value(m, 'spool_queue_jobs', { queue: '_other', state: 'ready' }) === 12;
    });
    assert.equal(value(m, 'spool_jobs_added_total', { queue: 'a' }), 1);
    assert.equal(value(m, 'spool_jobs_added_total', { queue: 'b' }), 2);
    assert.equal(value(m, 'spool_jobs_added_total', { queue: '_other' }), 12, 'c and d');
    assert.equal(value(m, 'spool_queue_jobs', { queue: 'a', state: 'ready' }), 1);
    assert.equal(value(m, 'spool_queue_jobs', { queue: 'b', state: 'ready' }), 2);
    for (const family of ['spool_jobs_added_total', 'spool_queue_jobs', 'spool_queue_paused', 'spool_queue_arrival_rate']) {
      assert.deepEqual(queuesIn(m, family), new Set(['a', 'b', '_other']), family);
    }
    assert.equal(value(m, 'spool_queue_utilisation_ratio', { queue: '_other' }), undefined, 'no utilisation summed over queues');

    // The other broker counts its own Spool's jobs only, in a registry of its own.
    const o = await scrape(other.broker.url);
    assert.equal(value(o, 'spool_jobs_added_total', { queue: 'a' }), 1);
    assert.deepEqual(queuesIn(o, 'spool_jobs_added_total'), new Set(['a']));
  });

  it('needs a token with view or admin when the broker checks tokens', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    const broker = await startBroker(spool, { port: 0, auth: new Authenticator(spool.store, { mode: 'required' }) });
    t.after(async () => {
      await broker.close();
      await spool.close();
    });
    const bearer = async (...scopes: string[]) => ({ authorization: `Bearer ${(await createToken(spool.store, { scopes })).token}` });
    const none = await fetch(`${broker.url}/metrics`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { code: string }).code, 'UNAUTHORIZED');
    for (const scopes of [['publish:*'], ['consume:*'], ['publish:*', 'consume:*']]) {
      const refused = await fetch(`${broker.url}/metrics`, { headers: await bearer(...scopes) });
      assert.equal(refused.status, 403, scopes.join(' '));
      assert.deepEqual(await refused.json(), { code: 'FORBIDDEN', message: 'this token lacks view', scope: 'view' });
    }
    for (const scope of ['view', 'admin']) assert.ok((await scrape(broker.url, await bearer(scope))).has('spool_jobs_added_total'), scope);
  });

  it('is not served with metrics: false; the options are checked', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    const broker = await startBroker(spool, { port: 0, metrics: false });
    t.after(async () => {
      await broker.close();
      await spool.close();
    });
    assert.equal((await fetch(`${broker.url}/metrics`)).status, 404);
    await assert.rejects(startBroker(spool, { port: 0, metrics: 'yes' as never }), { field: 'metrics', message: /metrics must be a boolean/ });
    await assert.rejects(startBroker(spool, { port: 0, metricsQueuesMax: -1 }), { field: 'metricsQueuesMax', message: /at least 0/ });
    await assert.rejects(startBroker(spool, { port: 0, metricsQueuesMax: 10_001 }), { field: 'metricsQueuesMax', message: /at most 10000/ });
  });
});

describe('the state metrics', () => {
  /** A source whose health and overview the test sets. */
  function source() {
    const s = {
      health: { healthy: true, reason: null, since: 1 } as HealthStatus,
      overview: { at: 0, queues: [], consumers: [], alerts: [], processes: [] } as Overview | Error,
    };
    return {
      s,
      src: {
        health: () => s.health,
        overview: async () => {
          if (s.overview instanceof Error) throw s.overview;
          return s.overview;
        },
        connections: () => 3,
      },
    };
  }
  const read = async (registry: Registry) => parsePrometheusText(await registry.metrics());

  it('counts each outage once, also one that began and ended between two looks', async () => {
    const { s, src } = source();
    const registry = new Registry();
    const state = new StateMetrics(registry, new QueueLabels(10), src);
    const outages = async () => value(await read(registry), 'spool_store_outages_total');
    const healthy = async () => value(await read(registry), 'spool_store_healthy');
    assert.deepEqual([await outages(), await healthy()], [0, 1]);
    s.health = { healthy: false, reason: 'gone', since: 2 };
    state.checkHealth();
    state.checkHealth();
    assert.deepEqual([await outages(), await healthy()], [1, 0], 'the outage counted once, however often it is looked at');
    s.health = { healthy: true, reason: null, since: 3 };
    state.checkHealth();
    assert.deepEqual([await outages(), await healthy()], [1, 1], 'the recovery is no new outage');
    s.health = { healthy: true, reason: null, since: 5 }; // down at 4 and up at 5, unseen
    state.checkHealth();
    assert.equal(await outages(), 2);
    s.health = { healthy: false, reason: 'gone', since: 6 };
    state.checkHealth();
    s.health = { healthy: false, reason: 'gone again', since: 8 }; // up at 7 and down at 8, unseen
    state.checkHealth();
    assert.equal(await outages(), 4);
  });

  it('a broker whose store is down at the start has seen one outage', () => {
    const { s, src } = source();
    s.health = { healthy: false, reason: 'gone', since: 1 };
    const registry = new Registry();
    new StateMetrics(registry, new QueueLabels(10), src);
    return read(registry).then((m) => assert.deepEqual([value(m, 'spool_store_outages_total'), value(m, 'spool_store_healthy')], [1, 0]));
  });

  it('sums under _other what adds up, takes the oldest age, counts the paused, and leaves out utilisation and wait', async () => {
    const { s, src } = source();
    const registry = new Registry();
    const state = new StateMetrics(registry, new QueueLabels(1), src);
    const queue = (name: string, ready: number, oldestReadyAgeMs: number, paused: boolean, arrivalRate: number, workers: number, utilisation: number) => ({
      queue: name, counts: { scheduled: 1, ready, active: 0, completed: 0, dead: 0, cancelled: 0 }, oldestReadyAgeMs, paused, length: ready + 1, maxLength: null, overflow: 'reject' as const, unservable: 0,
      model: { windowMs: 60_000, arrivalRate, completionRate: arrivalRate / 2, failureRate: 0, deadRate: 0, serviceTimeMs: 10, workers, utilisation, length: ready, meanWaitMs: 1000, drainEtaMs: null, dropRate: 0, dropped: 0 },
    });
    s.overview = { at: 1, consumers: [], alerts: [], processes: [], queues: [queue('q1', 1, 1000, false, 2, 4, 0.5), queue('q2', 2, 4000, true, 3, 1, 0.2), queue('q3', 4, 500, true, 1, 2, 0.1)] };
    await state.refresh();
    const m = await read(registry);
    const other = { queue: '_other' };
    assert.deepEqual(
      [
        value(m, 'spool_queue_jobs', { ...other, state: 'ready' }), value(m, 'spool_queue_jobs', { ...other, state: 'scheduled' }),
        value(m, 'spool_queue_oldest_ready_age_seconds', other), value(m, 'spool_queue_paused', other), value(m, 'spool_queue_arrival_rate', other),
        value(m, 'spool_queue_completion_rate', other), value(m, 'spool_queue_consumer_slots', other),
        value(m, 'spool_queue_utilisation_ratio', other), value(m, 'spool_queue_mean_wait_seconds', other),
      ],
      [6, 2, 4, 2, 4, 2, 3, undefined, undefined],
    );
    assert.deepEqual([value(m, 'spool_queue_utilisation_ratio', { queue: 'q1' }), value(m, 'spool_queue_mean_wait_seconds', { queue: 'q1' })], [0.5, 1]);
  });

  it('without an overview (the store unreachable) leaves the queues out and still says the rest', async () => {
    const { s, src } = source();
    const registry = new Registry();
    const state = new StateMetrics(registry, new QueueLabels(10), src);
    const model = { windowMs: 1000, arrivalRate: 2, completionRate: 1, failureRate: 0, deadRate: 0, serviceTimeMs: 10, workers: 4, utilisation: 0.005, length: 3, meanWaitMs: 1500, drainEtaMs: null, dropRate: 0, dropped: 0 };
    s.overview = { at: 1, consumers: [], alerts: [], processes: [], queues: [{ queue: 'q', counts: { scheduled: 0, ready: 3, active: 0, completed: 0, dead: 0, cancelled: 0 }, oldestReadyAgeMs: 2500, paused: true, length: 3, maxLength: null, overflow: 'reject', unservable: 0, model }] };
    await state.refresh();
    let m = await read(registry);
    assert.deepEqual(
      ['spool_queue_jobs', 'spool_queue_oldest_ready_age_seconds', 'spool_queue_paused', 'spool_queue_mean_wait_seconds', 'spool_queue_utilisation_ratio', 'spool_broker_connections'].map((f) =>
        value(m, f, f === 'spool_broker_connections' ? {} : f === 'spool_queue_jobs' ? { queue: 'q', state: 'ready' } : { queue: 'q' })),
      [3, 2.5, 1, 1.5, 0.005, 3],
    );
    s.overview = new Error('the store is unreachable');
    await state.refresh();
    m = await read(registry);
    assert.equal(m.get('spool_queue_jobs')!.samples.length, 0);
    assert.equal(value(m, 'spool_broker_connections'), 3);
  });
});

describe('the Prometheus text parser of these tests', () => {
  const ok = '# HELP a_total Things.\n# TYPE a_total counter\na_total{queue="x"} 1\n';
  it('accepts a valid exposition and refuses each kind of fault', () => {
    assert.equal(sampleValue(parsePrometheusText(ok), 'a_total', 'a_total', { queue: 'x' }), 1);
    const bad: Record<string, string> = {
      'no newline at the end': ok.trimEnd(),
      'a sample without TYPE': '# HELP a_total Things.\na_total 1\n',
      'TYPE before HELP': '# TYPE a_total counter\n# HELP a_total Things.\na_total 1\n',
      'a duplicate series': `${ok}a_total{queue="x"} 2\n`,
      'a split family': `${ok}# HELP b Other.\n# TYPE b gauge\nb 1\na_total{queue="y"} 1\n`,
      'a bad value': '# HELP a_total Things.\n# TYPE a_total counter\na_total one\n',
      'an unquoted label': '# HELP a_total Things.\n# TYPE a_total counter\na_total{queue=x} 1\n',
      'an unknown type': '# HELP a Things.\n# TYPE a meter\na 1\n',
      'a bucket count falling': '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      'no +Inf bucket': '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
      '+Inf bucket not the count': '# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n',
    };
    for (const [why, text] of Object.entries(bad)) assert.throws(() => parsePrometheusText(text), Error, why);
  });
});
