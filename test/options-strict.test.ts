/**
 * Every entry point that takes an options object refuses a key it does not know (naming the
 * nearest valid one), refuses a value out of bounds (naming the bound), and accepts every key
 * docs/configuration.md documents for it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { RemoteSpool, type ConnectOptions } from '../src/client/remote-spool.ts';
import { systemClock } from '../src/core/clock.ts';
import { InvalidArgumentError } from '../src/core/errors.ts';
import { LIMITS, type LimitName } from '../src/core/limits.ts';
import { OPEN_OPTION_KEYS, type OpenOptions } from '../src/engine/options.ts';
import { Spool } from '../src/engine/spool.ts';
import { Authenticator } from '../src/server/auth/authenticator.ts';
import { BROKER_OPTION_KEYS, resolveBrokerOptions, startBroker, type BrokerOptions } from '../src/server/broker.ts';
import { buildHttpApi } from '../src/server/app.ts';
import { openPostgresStore, PG_OPTION_KEYS, type PostgresStoreOptions } from '../src/store/postgres/postgres-store.ts';
import { openSqliteStore, SQLITE_OPTION_KEYS, type SqliteStoreOptions } from '../src/store/sqlite/sqlite-store.ts';
import { WORKER_OPTION_KEYS, type WorkerOptions } from '../src/worker/worker.ts';
import { testPgUrl, uniqueSchema } from './support/pg-url.ts';

const quiet = { onError: () => {}, log: () => {} };
const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
const fixture = (name: string) => readFileSync(new URL(`fixtures/tls/${name}`, import.meta.url), 'utf8');

/**
 * The keys docs/configuration.md's "Where each is set" table names in the row of `where`
 * (remarks in parentheses left out).
 */
function documentedKeys(where: string): string[] {
  const row = doc.split('\n').find((line) => line.startsWith(`| \`${where}`));
  assert.ok(row, `docs/configuration.md has no row for ${where}`);
  const settings = row.split(' | ').at(-1)!.replace(/\([^()]*\)/g, '');
  return [...new Set([...settings.matchAll(/`(\w+)[`:]/g)].map((m) => m[1]!))].sort();
}

/** Asserts `fn` fails with INVALID_ARGUMENT for `field`, its message matching `message`. */
async function refuses(fn: () => unknown, field: string, message: RegExp): Promise<void> {
  await assert.rejects(async () => fn(), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    return true;
  });
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'spool-options-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('Spool.open', () => {
  it('refuses an unknown key, naming the nearest valid one', async () => {
    await refuses(() => Spool.open({ store: 'memory', pollIntervallMs: 50 } as OpenOptions), 'pollIntervallMs',
      /^Spool\.open: unknown option "pollIntervallMs"; did you mean "pollIntervalMs"\?$/);
    await refuses(() => Spool.open({ store: 'memory', Maintenance: false } as OpenOptions), 'Maintenance', /did you mean "maintenance"\?/);
    await refuses(() => Spool.open({ store: 'memory', colour: 'red' } as OpenOptions), 'colour', /unknown option "colour"; valid options: store, durability,/);
  });

  it('refuses a queue setting, pointing at configure()', async () => {
    await refuses(() => Spool.open({ store: 'memory', visibilityTimeoutMs: 5 } as OpenOptions), 'visibilityTimeoutMs',
      /^Spool\.open: unknown option "visibilityTimeoutMs"; it is a queue setting: set it with spool\.queue\(name\)\.configure\(\{ visibilityTimeoutMs \}\)$/);
    await refuses(() => Spool.open({ store: 'memory', maxAttempts: 3 } as OpenOptions), 'maxAttempts', /configure\(\{ maxAttempts \}\)/);
  });

  it('refuses a value out of bounds or of the wrong type, and options that are not an object', async () => {
    await refuses(() => Spool.open({ store: 'memory', pollIntervalMs: 5 }), 'pollIntervalMs', /pollIntervalMs must be at least 10 \(got 5\)/);
    await refuses(() => Spool.open({ store: 'memory', historyMax: 5000 }), 'historyMax', /historyMax must be at most 1000/);
    await refuses(() => Spool.open({ store: 'memory', maintenance: 'no' as never }), 'maintenance', /maintenance must be a boolean/);
    await refuses(() => Spool.open({ store: 'memory', onError: 'ignore' as never }), 'onError', /onError must be a function/);
    await refuses(() => Spool.open('memory' as never), 'options', /must be an object/);
  });

  it('accepts every key docs/configuration.md documents for it', async () => {
    assert.deepEqual([...OPEN_OPTION_KEYS].sort(), documentedKeys('Spool.open'));
    const options: Required<OpenOptions> = {
      payloadMaxBytes: LIMITS.payloadMaxBytes.default, resultMaxBytes: 4096, errorMaxBytes: 1024, addManyMax: 100, claimBatchMax: 10, claimsInFlightMax: 2, searchScanMax: 1000,
      progressMaxBytes: 256, jobLogMax: 10, jobLogLineMaxBytes: 128,
      maintenanceIntervalMs: 100, pollIntervalMs: 100, settingsRefreshMs: 0, completedRetentionMs: 0, deadRetentionMs: 0, cancelledRetentionMs: 0,
      busyTimeoutMs: 100, historyMax: 10, heartbeatIntervalMs: 1000, leaderLeaseMs: 1000,
      alertRulesMax: 10, alertEventsMax: 100, alertWebhookTimeoutMs: 1000, alertDeliveryAttempts: 3, readTimeoutMs: 5000, idempotencyWindowMs: 60_000, queueFullWaitMs: 0, schedulesMax: 10, cronGraceMs: 1000, bindingsMax: 100, flowChildrenMax: 10,
      store: 'memory', durability: 'no-fsync', clock: systemClock, maintenance: false, schema: 'spool', notify: true, random: Math.random, onEvent: () => {}, ...quiet,
    };
    assert.deepEqual(Object.keys(options).sort(), [...OPEN_OPTION_KEYS].sort());
    const spool = await Spool.open(options);
    try {
      assert.equal((await spool.queue('q').add({ n: 1 })).state, 'ready');
    } finally {
      await spool.close();
    }
  });
});

describe('queue.configure', () => {
  it('refuses an unknown queue or backoff setting, naming the nearest valid one, and a value out of bounds', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    t.after(() => spool.close());
    const q = spool.queue('q');
    await refuses(() => q.configure({ visibilityTimeout: 5000 } as never), 'visibilityTimeout',
      /^queue\.configure: unknown queue setting "visibilityTimeout"; did you mean "visibilityTimeoutMs"\?$/);
    await refuses(() => q.configure({ maxAtempts: 3 } as never), 'maxAtempts', /did you mean "maxAttempts"\?/);
    await refuses(() => q.configure({ backoff: { type: 'fixed', delay: 10 } } as never), 'backoff.delay',
      /^queue\.configure: unknown backoff setting "delay"; did you mean "delayMs"\?$/);
    await refuses(() => q.configure({ visibilityTimeoutMs: 5 }), 'visibilityTimeoutMs', /visibilityTimeoutMs must be at least 100 \(got 5\)/);
    await refuses(() => q.configure({ backoff: { maxDelayMs: -1 } }), 'backoff.maxDelayMs', /backoff\.maxDelayMs must be at least 0/);
    await refuses(() => q.configure({ rateLimit: { rate: 5, perMS: 1000 } } as never), 'rateLimit.perMS',
      /^queue\.configure: unknown rateLimit setting "perMS"; did you mean "perMs"\?$/);
    await refuses(() => q.configure({ ratelimit: { rate: 5 } } as never), 'ratelimit', /did you mean "rateLimit"\?/);
    await refuses(() => q.configure({ rateLimit: { rate: 2_000_000 } }), 'rateLimit.rate', /rateLimit\.rate must be at most 1000000/);
  });

  it('accepts every documented setting', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    t.after(() => spool.close());
    assert.deepEqual(documentedKeys('queue.configure'), [
      'agingMs', 'backoff', 'concurrencyLimit', 'concurrencyLimits', 'fairWeights', 'groupFifo', 'keyRateLimit', 'keyRateLimits', 'labels', 'maxAttempts', 'maxLength', 'maxStalls', 'overflow', 'policy', 'rateLimit', 'sjfCostFactor', 'sjfLearnPct', 'timeoutMs', 'visibilityTimeoutMs',
    ]);
    const input = {
      visibilityTimeoutMs: 1000, maxAttempts: 2, maxStalls: 2, backoff: { type: 'exponential', delayMs: 10, maxDelayMs: 100 }, timeoutMs: 500,
      rateLimit: { rate: 5, perMs: 1000, burst: 10, limiter: 'smtp' }, maxLength: 100, overflow: 'drop-oldest',
      policy: 'fair', agingMs: 2000, sjfCostFactor: 3, sjfLearnPct: 40, fairWeights: { acme: 2 },
      concurrencyLimit: 3, concurrencyLimits: { 'tenant-a': 5 }, groupFifo: true,
      keyRateLimit: { rate: 2, perMs: 1000, burst: 4 }, keyRateLimits: { 'tenant-a': { rate: 20, perMs: 60_000, burst: 20 } }, labels: { team: 'billing' },
    } as const;
    assert.deepEqual(await spool.queue('q').configure(input), input);
  });
});

describe('spool.work', () => {
  it('refuses an unknown key (a queue setting pointing at configure()) and a value out of bounds', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    t.after(() => spool.close());
    const handler = async () => {};
    await refuses(() => spool.work('q', handler, { concurency: 2 } as WorkerOptions), 'concurency', /^work: unknown option "concurency"; did you mean "concurrency"\?$/);
    await refuses(() => spool.work('q', handler, { visibilityTimeoutMs: 1000 } as WorkerOptions), 'visibilityTimeoutMs', /it is a queue setting/);
    await refuses(() => spool.work('q', handler, { concurrency: 0 }), 'concurrency', /concurrency must be at least 1/);
    await refuses(() => spool.work('q', handler, { shutdownTimeoutMs: 2 * 60 * 60 * 1000 }), 'shutdownTimeoutMs', /shutdownTimeoutMs must be at most 3600000/);
    await refuses(() => spool.work('q', handler, 4 as never), 'options', /must be an object/);
    await refuses(() => spool.work('q', undefined as never), 'handler', /work needs a handler function/);
    const worker = spool.work('q', handler);
    await refuses(() => worker.close({ timeout: 5 } as never), 'timeout', /^worker\.close: unknown option "timeout"; did you mean "timeoutMs"\?$/);
    await worker.close({ timeoutMs: 0 });
  });

  it('new Authenticator refuses an unknown key, naming the nearest', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    t.after(() => spool.close());
    await refuses(() => new Authenticator(spool.store, { cacheMS: 10 } as never), 'cacheMS', /^Authenticator: unknown option "cacheMS"; did you mean "cacheMs"\?$/);
  });

  it('accepts every documented key', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    t.after(() => spool.close());
    assert.deepEqual([...WORKER_OPTION_KEYS].sort(), documentedKeys('spool.work'));
    const options: Required<WorkerOptions> = { concurrency: 2, shutdownTimeoutMs: 1000, tags: ['gpu'] };
    const worker = spool.work('q', async () => 'ok', options);
    assert.equal(worker.concurrency, 2);
    await worker.close();
  });
});

describe('startBroker', () => {
  it('refuses an unknown key, naming the nearest valid one', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    t.after(() => spool.close());
    await refuses(() => startBroker(spool, { port: 0, connectionMax: 5 } as BrokerOptions), 'connectionMax', /^startBroker: unknown option "connectionMax"; did you mean "connectionsMax"\?$/);
    await refuses(() => startBroker(spool, { port: 0, idleTimeout: 5000 } as BrokerOptions), 'idleTimeout', /did you mean "idleTimeoutMs"\?/);
    await refuses(() => startBroker(spool, { port: 0, payloadMaxBytes: 5000 } as BrokerOptions), 'payloadMaxBytes', /unknown option "payloadMaxBytes"/);
    await refuses(() => startBroker(spool, { port: 0, tls: { cert: 'x', key: 'y', ca: 'z' } } as BrokerOptions), 'tls.ca', /unknown tls option "ca"/);
  });

  it('refuses a value out of bounds, naming the bound, before listening', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    t.after(() => spool.close());
    await refuses(() => startBroker(spool, { port: 0, idleTimeoutMs: 5 }), 'idleTimeoutMs', /idleTimeoutMs must be at least 1000 \(got 5\)/);
    await refuses(() => startBroker(spool, { port: 0, receiveWaitMaxMs: 10 * 60_000 }), 'receiveWaitMaxMs', /receiveWaitMaxMs must be at most 300000/);
    await refuses(() => startBroker(spool, { port: 0, bodyMaxBytes: 10 }), 'bodyMaxBytes', /bodyMaxBytes must be at least 1024/);
    await refuses(() => startBroker(spool, { port: 0, wsHeartbeatMs: 1.5 }), 'wsHeartbeatMs', /wsHeartbeatMs must be an integer/);
    await refuses(() => startBroker(spool, { port: 70_000 }), 'port', /port must be an integer from 0 to 65535/);
    await refuses(() => startBroker(spool, { port: 0, tls: { cert: 'x' } as never }), 'tls', /tls needs both cert and key/);
    await refuses(() => startBroker(spool, { port: 0, auth: {} as never }), 'auth', /auth must be an Authenticator/);
    // buildHttpApi, used on its own, checks the settings it reads too.
    assert.throws(() => buildHttpApi(spool, { idleTimeoutMs: 5 }), { field: 'idleTimeoutMs', message: /idleTimeoutMs must be at least 1000/ });
    assert.throws(() => buildHttpApi(spool, { receiveWaitMaxMs: -1 }), { field: 'receiveWaitMaxMs', message: /receiveWaitMaxMs must be at least 0/ });
    assert.throws(() => buildHttpApi(spool, { bodyMaxBytes: 2 ** 40 }), { field: 'bodyMaxBytes', message: /bodyMaxBytes must be at most 1073741824/ });
  });

  it('resolveBrokerOptions fills in every default', () => {
    const o = resolveBrokerOptions();
    assert.equal(o.host, '127.0.0.1');
    assert.equal(o.port, 7600);
    for (const name of BROKER_OPTION_KEYS.filter((k) => k in LIMITS)) assert.equal(o[name], LIMITS[name as LimitName].default, name);
  });
});

describe('Spool.connect', () => {
  it('refuses an unknown key and a value out of bounds before dialling', async () => {
    const url = 'ws://127.0.0.1:9/v1/ws'; // nothing is dialled: every case fails first
    await refuses(() => RemoteSpool.connect(url, { ...quiet, reconectBaseMs: 50 } as ConnectOptions), 'reconectBaseMs', /^Spool\.connect: unknown option "reconectBaseMs"; did you mean "reconnectBaseMs"\?$/);
    await refuses(() => RemoteSpool.connect(url, { ...quiet, timeoutMs: 50 } as ConnectOptions), 'timeoutMs', /unknown option "timeoutMs"/);
    await refuses(() => RemoteSpool.connect(url, { ...quiet, connectTimeoutMs: 50 }), 'connectTimeoutMs', /connectTimeoutMs must be at least 100 \(got 50\)/);
    await refuses(() => RemoteSpool.connect(url, { ...quiet, reconnectBaseMs: 1 }), 'reconnectBaseMs', /reconnectBaseMs must be at least 10/);
    await refuses(() => RemoteSpool.connect(url, { ...quiet, reconnectMaxMs: 3_600_000 }), 'reconnectMaxMs', /reconnectMaxMs must be at most 300000/);
    await refuses(() => RemoteSpool.connect(url, { ...quiet, reconnectBaseMs: 500, reconnectMaxMs: 100 }), 'reconnectMaxMs', /reconnectMaxMs must be at least reconnectBaseMs/);
    await refuses(() => RemoteSpool.connect(url, { ...quiet, sendBufferMaxBytes: 0 }), 'sendBufferMaxBytes', /sendBufferMaxBytes must be at least 1024/);
    await refuses(() => RemoteSpool.connect(url, { ...quiet, token: 42 as never }), 'token', /token must be a string/);
    await refuses(() => RemoteSpool.connect(url, 'fast' as never), 'options', /must be an object/);
    await refuses(() => RemoteSpool.connect(['not a url'], quiet), 'urls', /is not a broker URL/);
  });

  it('accepts every documented key (and startBroker every one of its own), over TLS', async (t) => {
    const spool = await Spool.open({ store: 'memory', ...quiet });
    t.after(() => spool.close());
    assert.deepEqual([...BROKER_OPTION_KEYS].sort(), documentedKeys('startBroker'));
    const brokerOptions: Required<BrokerOptions> = {
      bodyMaxBytes: LIMITS.bodyMaxBytes.default, idleTimeoutMs: 5000, receiveWaitMaxMs: 1000, connectionsMax: 10, consumerInflightMax: 100,
      requestsInflightMax: 100, wsHeartbeatMs: 1000, helloTimeoutMs: 1000, addManyMax: 100, metrics: true, metricsQueuesMax: 10,
      host: '127.0.0.1', port: 0, tls: { cert: fixture('cert.pem'), key: fixture('key.pem') }, auth: new Authenticator(spool.store, { mode: 'off' }), logger: false,
      sqs: { port: 0 },
    };
    assert.deepEqual(Object.keys(brokerOptions).sort(), [...BROKER_OPTION_KEYS].sort());
    const broker = await startBroker(spool, brokerOptions);
    t.after(() => broker.close());

    const connectOptions: Required<ConnectOptions> = {
      token: 'unused', client: 'options-test', tags: { region: 'test' }, reconnectBaseMs: 50, reconnectMaxMs: 500, connectTimeoutMs: 5000, sendBufferMaxBytes: 1024 * 1024,
      ca: fixture('cert.pem'), clock: systemClock, random: Math.random, queueFullWaitMs: 1000, ...quiet,
    };
    assert.deepEqual(Object.keys(connectOptions).sort(), documentedKeys('Spool.connect'));
    const remote: RemoteSpool = await RemoteSpool.connect(broker.wsUrl, connectOptions);
    t.after(() => remote.close());
    assert.equal((await remote.queue('q').add({ n: 1 })).state, 'ready');
    await refuses(() => remote.work('q', async () => {}, { concurency: 1 } as WorkerOptions), 'concurency', /did you mean "concurrency"\?/);
  });
});

describe('openSqliteStore', () => {
  it('refuses an unknown key, a value out of bounds, and a missing path', async (t) => {
    const path = join(tempDir(t), 's.db');
    await refuses(() => openSqliteStore({ path, busyTimeout: 100 } as SqliteStoreOptions), 'busyTimeout', /^openSqliteStore: unknown option "busyTimeout"; did you mean "busyTimeoutMs"\?$/);
    await refuses(() => openSqliteStore({ path, durabilty: 'fsync' } as SqliteStoreOptions), 'durabilty', /did you mean "durability"\?/);
    await refuses(() => openSqliteStore({ path, busyTimeoutMs: -1 }), 'busyTimeoutMs', /busyTimeoutMs must be at least 0/);
    await refuses(() => openSqliteStore({ path, historyMax: 1 }), 'historyMax', /historyMax must be at least 5/);
    await refuses(() => openSqliteStore({ path, maxDatabaseBytes: 10 }), 'maxDatabaseBytes', /maxDatabaseBytes must be an integer of at least 65536/);
    await refuses(() => openSqliteStore({ path, durability: 'sometimes' as never }), 'durability', /durability must be 'fsync' or 'no-fsync'/);
    await refuses(() => openSqliteStore({} as SqliteStoreOptions), 'path', /path must be a database file/);
  });

  it('accepts every documented key', async (t) => {
    assert.deepEqual([...SQLITE_OPTION_KEYS].sort(), documentedKeys('new SqliteStore'));
    const options: Required<SqliteStoreOptions> = { path: join(tempDir(t), 's.db'), durability: 'no-fsync', busyTimeoutMs: 100, historyMax: 10, maxDatabaseBytes: 1024 * 1024 };
    const store = openSqliteStore(options);
    await store.close();
  });
});

describe('openPostgresStore', () => {
  it('refuses an unknown key and a poolSize out of bounds before connecting', async () => {
    const url = 'postgres://nobody@127.0.0.1:9/none'; // never dialled: every case fails first
    await refuses(() => openPostgresStore({ url, poolsize: 2 } as PostgresStoreOptions), 'poolsize', /^openPostgresStore: unknown option "poolsize"; did you mean "poolSize"\?$/);
    await refuses(() => openPostgresStore({ url, pool: 2 } as PostgresStoreOptions), 'pool', /did you mean "poolSize"\?/);
    await refuses(() => openPostgresStore({ url, poolSize: 0 }), 'poolSize', /poolSize must be at least 1 \(got 0\)/);
    await refuses(() => openPostgresStore({ url, poolSize: 5000 }), 'poolSize', /poolSize must be at most 1000/);
    await refuses(() => openPostgresStore({ url, notify: 'no' as never }), 'notify', /notify must be a boolean/);
    await refuses(() => openPostgresStore({ url: 'postgres://user:secret@' } as PostgresStoreOptions), 'url', /needs a url like postgres:\/\/.*\(got a string that is not a URL\)$/);
  });

  it('accepts every documented key', async () => {
    assert.deepEqual([...PG_OPTION_KEYS].sort(), documentedKeys('openPostgresStore'));
    const options: Required<PostgresStoreOptions> = { url: testPgUrl(), schema: uniqueSchema('opts'), poolSize: 2, notify: false, historyMax: 10, migrate: true, readTimeoutMs: 5000 };
    const store = await openPostgresStore(options);
    await store.close();
  });
});

it('list refuses an unknown option, naming the nearest, as over the wire', async () => {
  const spool = await Spool.open({ store: 'memory', maintenance: false });
  try {
    await assert.rejects(spool.list('q', { stat: 'ready' } as never), (e: Error & { field?: string }) => e.field === 'stat' && /did you mean "state"\?/.test(e.message));
    await spool.queue('q').add(1);
    assert.equal((await spool.list('q', { state: 'ready', limit: 5 })).length, 1);
  } finally {
    await spool.close();
  }
});
