import assert from 'node:assert/strict';
import type { Job, Lease } from '../../../core/job.ts';
import { requiresOf } from '../../../core/resource-tags.ts';
import type { NewJobRow, Store } from '../../store.ts';
import type { DriverArea, DriverConformanceOptions, DriverData, DriverFactory, DriverSkip } from './types.ts';

/** The optional Store methods the suite looks for. */
export type OptionalMethod = 'onReady' | 'workerRegister' | 'workerHeartbeat' | 'workerUnregister' | 'workersReapDead' | 'asLeader' | 'leaderResign' | 'tablesVacuum'
  | 'workerAnnounce' | 'processSnapshotPut' | 'processSnapshotsRead' | 'processSnapshotsRetire' | 'jobsShorten';

/** What a test needs beyond the area: a second store on the data, a schema probe, a fault, an optional method. */
export type Need = 'shared' | 'schema' | 'crossProcessNotify' | 'unreachable' | 'full' | OptionalMethod;

const OPTIONAL_METHODS: readonly OptionalMethod[] = [
  'onReady', 'workerRegister', 'workerHeartbeat', 'workerUnregister', 'workersReapDead', 'asLeader', 'leaderResign', 'tablesVacuum',
  'workerAnnounce', 'processSnapshotPut', 'processSnapshotsRead', 'processSnapshotsRetire', 'jobsShorten',
];

/** What the suite found out about the driver from one store it opened before defining the tests. */
export interface DriverProbe {
  methods: ReadonlySet<OptionalMethod>;
  crossProcessNotify: boolean;
  shared: boolean;
  schema: boolean;
}

export async function probeDriver(factory: DriverFactory): Promise<DriverProbe> {
  const data = await factory.create();
  const store = await data.open();
  try {
    return {
      methods: new Set(OPTIONAL_METHODS.filter((m) => typeof store[m] === 'function')),
      crossProcessNotify: store.capabilities.crossProcessNotify,
      shared: data.shared,
      schema: data.schema !== undefined,
    };
  } finally {
    await store.close();
    await data.dispose?.();
  }
}

/** The driver, and why each test is skipped: passed to every area of the suite. */
export class DriverContext {
  readonly factory: DriverFactory;
  readonly #probe: DriverProbe;
  readonly #declared: readonly DriverSkip[];

  constructor(factory: DriverFactory, probe: DriverProbe, options: DriverConformanceOptions) {
    this.factory = factory;
    this.#probe = probe;
    const skip = options.skip;
    this.#declared = skip === undefined ? [] : 'areas' in skip ? [skip as DriverSkip] : (skip as readonly DriverSkip[]);
  }

  /**
   * The node:test `skip` option of a test of `area` that needs `needs`: false when it runs, else
   * the reason, printed beside the test: declared by the driver, or derived from what it lacks.
   */
  skip(area: DriverArea, ...needs: Need[]): string | false {
    // `closed-error` is part of `errors`: declaring `errors` unsupported skips it too.
    const declared = this.#declared.find((s) => s.areas.includes(area) || (area === 'closed-error' && s.areas.includes('errors')));
    if (declared) return `declared by the driver: ${declared.reason}`;
    for (const need of needs) {
      const missing = this.#missing(need);
      if (missing) return `not supported: ${missing}`;
    }
    return false;
  }

  #missing(need: Need): string | null {
    const p = this.#probe;
    switch (need) {
      case 'shared':
        return p.shared ? null : 'the data is private to one store (DriverData.shared is false), so no second store can open it';
      case 'schema':
        return p.schema ? null : 'the driver gives no schema probe (DriverData.schema)';
      case 'crossProcessNotify':
        return p.crossProcessNotify ? null : 'capability crossProcessNotify is false';
      case 'unreachable':
      case 'full':
        return this.factory[need] ? null : `the factory has no ${need}() fault (DriverFactory.${need})`;
      default:
        return p.methods.has(need) ? null : `the store has no ${need}() (an optional Store method)`;
    }
  }
}

/** Fresh data whose stores are closed after the test. */
export interface TestData {
  data: DriverData;
  /** Opens a store on the data (another one each call). */
  open(): Promise<Store>;
}

/** Runs `fn` on fresh data, then closes every store it opened and disposes of the data. */
export async function withData(ctx: DriverContext, fn: (d: TestData) => Promise<void>): Promise<void> {
  const data = await ctx.factory.create();
  const opened: Store[] = [];
  try {
    await fn({
      data,
      open: async () => {
        const store = await data.open();
        opened.push(store);
        return store;
      },
    });
  } finally {
    for (const store of opened) await store.close();
    await data.dispose?.();
  }
}

/** Runs `fn` with one store on fresh data. */
export function withStore(ctx: DriverContext, fn: (store: Store, d: TestData) => Promise<void>): Promise<void> {
  return withData(ctx, async (d) => fn(await d.open(), d));
}

/** A fixed instant: every `now` of the suite is this plus a fixed offset, never the wall clock. */
export const T = 1_700_000_000_000;

/** A fixed job id (UUID text, as every driver must accept): ids sort in the order of `n`. */
export const jobId = (n: number): string => `01900000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

/** A fixed worker id (UUID text). */
export const workerId = (n: number): string => `01900000-0000-7000-9000-${n.toString(16).padStart(12, '0')}`;

/** A new job row: job `n` of queue `q`, ready at T, payload `{"n":n}`. */
export function newRow(n: number, over: Partial<NewJobRow> = {}): NewJobRow {
  return {
    id: jobId(n), queue: 'q', name: 'default', payload: JSON.stringify({ n }), priority: 0,
    runAt: T, state: 'ready', maxAttempts: 3, maxStalls: 2, timeoutMs: 0, trace: null, group: null, createdAt: T, ...over,
  };
}

/** The job a fresh insert of `row` stores. */
export function storedJob(row: NewJobRow): Job {
  return {
    id: row.id, queue: row.queue, name: row.name, payload: JSON.parse(row.payload), priority: row.priority,
    state: row.state, runAt: row.runAt, attempt: 0, maxAttempts: row.maxAttempts, stalls: 0, maxStalls: row.maxStalls,
    leaseToken: 0, leaseExpiresAt: null, createdAt: row.createdAt, updatedAt: row.createdAt, finishedAt: null,
    lastError: null, result: null, deadReason: null, history: [], timeoutMs: row.timeoutMs, progress: null,
    trace: row.trace === null ? null : JSON.parse(row.trace),
    group: row.group,
    expiresAt: row.expiresAt ?? null,
    cost: row.cost ?? null,
    concurrencyKey: row.concurrencyKey ?? null,
    requires: requiresOf(row.requires),
  };
}

/** The job with this id; fails the test if there is none. */
export async function getJob(store: Store, id: string): Promise<Job> {
  const [job] = await store.jobsGet([id]);
  assert.ok(job, `job ${id} exists`);
  return job;
}

/** The lease a claimed job was delivered with. */
export const leaseOf = (job: Job): Lease => ({ jobId: job.id, token: job.leaseToken });

/** Inserts rows, then claims `count` of queue `queue` at `now` with a lease of `leaseMs`; fails unless it got that many. */
export async function insertAndClaim(store: Store, rows: NewJobRow[], count = rows.length, now = T, leaseMs = 1000, queue = rows[0]!.queue): Promise<Job[]> {
  await store.jobsInsertMany(rows);
  const jobs = await store.jobsClaim({ queue, limit: count, leaseMs, now });
  assert.equal(jobs.length, count, `claimed ${count}`);
  return jobs;
}

/** A call that neither resolved nor rejected in time. */
export class NoAnswerError extends Error {}

/**
 * Resolves or rejects as `promise` does, failing with NoAnswerError after `ms` of real time
 * instead of hanging the run: a guard against a call that never answers, never a way to wait.
 */
export async function settlesWithin<V>(promise: Promise<V>, ms: number, what: string): Promise<V> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(`${what}: no answer after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}
