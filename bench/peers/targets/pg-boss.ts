/**
 * pg-boss on PostgreSQL: the runner's server, the one spool-postgres runs on (the
 * same settings; its fsync / synchronous_commit / full_page_writes are printed
 * beside every figure). Like spool-postgres, pg-boss is a library in the
 * application's process; each run installs it in a fresh schema, dropped at the end.
 *
 * Set up as pg-boss's documentation describes for throughput and latency: the
 * LISTEN/NOTIFY listener on (`useListenNotify`, and the queue created with
 * `notify: true`) so that workers wake when a job is sent instead of at their next
 * poll, and a worker fetching batches of 64 (`batchSize`, the workload's
 * concurrency: the handler gets the 64 jobs together) that keeps fetching while the
 * batches come back full (`burstWhenBatchFull`). Every other option is pg-boss's
 * default (retries, expiry, retention, maintenance). `send()` adds one job,
 * `insert()` a batch.
 *
 * Each run's schema is new, so PostgreSQL has no statistics of its job table
 * until autovacuum's next round (up to a minute later), and on a table it believes
 * empty the planner picks a fetch plan whose cost grows with the backlog: W3 ran at
 * about 3,500 jobs/s so, against about 19,000 with the statistics of a table in
 * use. The bench therefore analyzes the queue's table whenever it reads the job
 * counts, which every workload does outside its timed window (after the adds,
 * after the fill of a backlog, after a drain), as autovacuum would have on a
 * table that has been in use.
 *
 * Completion is what pg-boss records: a job counts as completed once its row is in
 * the `completed` state. pg-boss completes a batch after its handler returns and
 * emits no event for it, so each worker looks up the rows of the jobs it handled
 * every 20 ms and takes their `completed_on` (set by the completing statement) as
 * the completion time. The memory (W6) is the PostgreSQL server's: the postmaster
 * and every backend, as the sum of their proportional set sizes (shared buffers
 * counted once); pg-boss's own process is not in it.
 */
import { PgBoss } from 'pg-boss';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { BenchPayload } from '../../payload.ts';
import { serverSettings } from '../../postgres-settings.ts';
import type { AttachSpec, BrokerMemory, JobCounts, Target, TargetContext, TargetWorker, WorkerSpec } from '../../target.ts';
import { CompletionTally, processTreePss, runName } from './common.ts';

const QUEUE = 'bench';
/** How often a worker looks up the completion of the jobs it handled. */
const COMPLETION_POLL_MS = 20;
/** Job ids per completion look-up. */
const POLL_CHUNK = 1_000;
/** How long a closing worker waits for pg-boss to complete what it handled. */
const CLOSE_TIMEOUT_MS = 60_000;

export function createPeerTarget(context: TargetContext): Target {
  return new PgBossTarget(context);
}

class PgBossTarget implements Target {
  readonly id = 'pg-boss';
  readonly #url: string;
  readonly #schema: string;
  readonly #attached: boolean;
  #boss: PgBoss | null = null;
  /** The bench's own connection, for counts and completion look-ups (pg-boss's pool is left to pg-boss). */
  #client: pg.Client | null = null;
  #table: string | null = null;
  #durability: string | null = null;
  #postmasterPid: number | null = null;
  readonly #closers: (() => Promise<void>)[] = [];

  constructor(context: TargetContext) {
    if (!context.postgresUrl) throw new Error('pg-boss needs a PostgreSQL server: the runner passes one (set SPOOL_BENCH_PG_URL, or let the bench start one)');
    this.#url = context.postgresUrl;
    this.#attached = context.attach?.schema !== undefined;
    this.#schema = context.attach?.schema ?? runName('pgboss');
  }

  async setup(): Promise<void> {
    this.#durability = await serverSettings(this.#url);
    this.#boss = new PgBoss({ connectionString: this.#url, schema: this.#schema, useListenNotify: true });
    this.#boss.on('error', () => {}); // reported through the worker (a failed fetch or completion stalls or fails the run)
    await this.#boss.start();
    if (!this.#attached) await this.#boss.createQueue(QUEUE, { notify: true });
    const queue = await this.#boss.getQueue(QUEUE);
    if (!queue) throw new Error(`pg-boss: queue ${QUEUE} not found in schema ${this.#schema}`);
    this.#table = queue.table;
    this.#client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 10_000 });
    await this.#client.connect();
    if (!this.#attached) {
      const { rows } = await this.#client.query<{ setting: string }>(`SELECT setting FROM pg_settings WHERE name = 'data_directory'`);
      try {
        this.#postmasterPid = Number(readFileSync(join(rows[0]!.setting, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        this.#postmasterPid = null; // a server on another machine: no W6
      }
    }
  }

  durability(): string {
    if (this.#durability === null) throw new Error('pg-boss target used before setup()');
    return this.#durability;
  }

  async addOne(payload: BenchPayload): Promise<void> {
    await this.#pgboss.send(QUEUE, payload);
  }

  async addBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await this.#pgboss.insert(QUEUE, payloads.map((data) => ({ data })));
  }

  async startWorker(spec: WorkerSpec): Promise<TargetWorker> {
    const boss = this.#pgboss;
    const tally = new CompletionTally('pg-boss', spec);
    const { onStart } = spec;
    /** Jobs handled, not yet seen completed: id → payload. */
    const handled = new Map<string, BenchPayload>();
    const workId = await boss.work<BenchPayload>(QUEUE, { batchSize: spec.concurrency, burstWhenBatchFull: true }, async (jobs) => {
      for (const job of jobs) {
        onStart?.(job.data);
        handled.set(job.id, job.data);
      }
    });
    let polling: Promise<void> | null = null;
    const poll = async (): Promise<void> => {
      const ids = [...handled.keys()];
      for (let i = 0; i < ids.length; i += POLL_CHUNK) {
        const { rows } = await this.#db.query<{ id: string; at: number }>(
          `SELECT id, extract(epoch FROM completed_on) * 1000 AS at FROM ${this.#schema}.${this.#jobTable} WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'completed' ORDER BY completed_on`,
          [QUEUE, ids.slice(i, i + POLL_CHUNK)],
        );
        for (const row of rows) {
          const payload = handled.get(row.id);
          if (payload === undefined) continue;
          handled.delete(row.id);
          tally.complete(payload, Number(row.at));
        }
      }
    };
    const timer = setInterval(() => {
      if (polling || handled.size === 0) return;
      polling = poll()
        .catch((err: unknown) => tally.fail(err))
        .finally(() => (polling = null));
    }, COMPLETION_POLL_MS);
    const close = async (): Promise<void> => {
      // Stops fetching and waits for the batch in hand to be completed by pg-boss.
      await boss.offWork(QUEUE, { id: workId, wait: true });
      const deadline = performance.now() + CLOSE_TIMEOUT_MS;
      while (handled.size > 0 && performance.now() < deadline) {
        await polling;
        await poll();
        if (handled.size > 0) await new Promise((r) => setTimeout(r, COMPLETION_POLL_MS));
      }
      clearInterval(timer);
      await polling;
      if (handled.size > 0) tally.fail(new Error(`${handled.size} handled jobs were not completed within ${CLOSE_TIMEOUT_MS / 1000} s of closing`));
    };
    const worker = tally.worker(close);
    this.#closers.push(() => worker.close());
    return worker;
  }

  async jobCounts(): Promise<JobCounts> {
    if (!this.#attached) await this.#db.query(`ANALYZE ${this.#schema}.${this.#jobTable}`);
    const { rows } = await this.#db.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM ${this.#schema}.${this.#jobTable} WHERE name = $1 GROUP BY state`,
      [QUEUE],
    );
    const n = (state: string): number => rows.find((r) => r.state === state)?.n ?? 0;
    return { waiting: n('created') + n('retry'), active: n('active'), completed: n('completed'), failed: n('failed') + n('cancelled') };
  }

  async brokerMemory(): Promise<BrokerMemory> {
    if (this.#postmasterPid === null) throw new Error('pg-boss: the PostgreSQL server is not on this machine (or not set up by this process): no W6');
    return { rssBytes: processTreePss(this.#postmasterPid), peakRssBytes: null };
  }

  attachSpec(): AttachSpec {
    return { schema: this.#schema };
  }

  async teardown(): Promise<void> {
    try {
      await Promise.all(this.#closers.map((close) => close()));
      await this.#boss?.stop({ graceful: true });
      if (!this.#attached && this.#client) await this.#client.query(`DROP SCHEMA IF EXISTS ${this.#schema} CASCADE`);
    } finally {
      await this.#client?.end().catch(() => {});
      this.#client = null;
      this.#boss = null;
    }
  }

  get #pgboss(): PgBoss {
    if (!this.#boss) throw new Error('pg-boss target used before setup()');
    return this.#boss;
  }

  get #db(): pg.Client {
    if (!this.#client) throw new Error('pg-boss target used before setup()');
    return this.#client;
  }

  get #jobTable(): string {
    if (!this.#table) throw new Error('pg-boss target used before setup()');
    return this.#table;
  }
}
