/**
 * The SQLite store's migrations from version 13 on (start deadlines, scheduling policies, rate limits,
 * concurrency keys, unique keys, resource tags, cron schedules, topic routing), appended to
 * MIGRATIONS in migrations.ts. Never edit a released migration: add the next number.
 */
import type { Migration } from './migrations.ts';

export const SCHEDULING_MIGRATIONS: readonly Migration[] = [
  {
    version: 13,
    name: 'job start deadlines',
    sql: `
      -- When a job must have started (first leased) by: its add time plus the ttlMs add option;
      -- NULL when none (every job added before this version). Past it, a job never started
      -- (token 0) is dead, reason 'expired', instead of run.
      ALTER TABLE jobs ADD COLUMN expire_at INTEGER;
      -- The claim and the leader's sweep find a queue's expired jobs per state by deadline.
      -- Partial: a job without a deadline, or one that has started, costs no index entry, so a
      -- queue without TTLs costs the claim one empty seek.
      CREATE INDEX jobs_expiring ON jobs (queue, state, expire_at) WHERE expire_at IS NOT NULL AND token = 0;
    `,
  },
  {
    version: 14,
    name: 'scheduling policies',
    sql: `
      -- The cost add option (expected run time in ms); NULL when none.
      ALTER TABLE jobs ADD COLUMN cost REAL;
      -- The job's key in the order of a queue whose policy is not fifo (priority with aging, sjf,
      -- fair), computed at its add (and again for waiting jobs when the policy changes); NULL in a
      -- fifo queue, whose claims read jobs_ready alone.
      ALTER TABLE jobs ADD COLUMN sort_key REAL;
      -- Claims of such queues: lowest key first. Partial: a fifo job costs no index entry.
      CREATE INDEX jobs_sorted ON jobs (queue, sort_key, id) WHERE state = 'ready' AND sort_key IS NOT NULL;
      -- Policy fair: the last virtual finish tag issued to each group of a queue ('' for jobs without a group).
      CREATE TABLE fair_tags (
        queue     TEXT NOT NULL,
        group_key TEXT NOT NULL,
        last_tag  REAL NOT NULL,
        PRIMARY KEY (queue, group_key)
      ) WITHOUT ROWID;
      -- Policy sjf: the learned run time of each job name of a queue (an exponentially weighted mean).
      CREATE TABLE run_estimates (
        queue    TEXT NOT NULL,
        name     TEXT NOT NULL,
        mean_ms  REAL NOT NULL,
        samples  INTEGER NOT NULL,
        PRIMARY KEY (queue, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 15,
    name: 'rate limit buckets',
    sql: `
      -- The token buckets of rate limits (queue setting rateLimit), one row per bucket: a queue's
      -- own ('queue:<name>') or a limiter several queues share ('limiter:<name>'). Counted in
      -- integer units (a token is per_ms units; rate units accrue per ms), refilled lazily by
      -- the take, which stores the parameters it used.
      CREATE TABLE rate_limits (
        name        TEXT PRIMARY KEY,
        units       INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        rate        INTEGER NOT NULL,
        per_ms      INTEGER NOT NULL,
        burst       INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 16,
    name: 'worker registry',
    sql: `
      -- Processes using this file, with heartbeats (as on PostgreSQL): a process that stops
      -- beating is presumed dead once expires_at passes, and its leases are taken back then
      -- rather than at their visibility timeout.
      CREATE TABLE workers (
        id           TEXT PRIMARY KEY,
        host         TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        started_at   INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
      );
      -- The process a lease belongs to, set by the claim's own UPDATE (and by an extend that
      -- names one); NULL for jobs leased before this version or by a process without a
      -- registration. Meaningful only while the job is active; no index (see ACTIVE_ORPHANED).
      ALTER TABLE jobs ADD COLUMN worker_id TEXT;
    `,
  },
  {
    version: 17,
    name: 'concurrency keys',
    sql: `
      -- The concurrencyKey add option (the key a queue's concurrencyLimit counts active jobs by);
      -- NULL when none. No index: a claim of a limited queue reads the queue's ready and active
      -- jobs by jobs_queue_state, and queues without limits never read the column.
      ALTER TABLE jobs ADD COLUMN concurrency_key TEXT;
    `,
  },
  {
    version: 18,
    name: 'unique keys',
    sql: `
      -- The add option uniqueKey: at most one live job (scheduled, ready, active) of a queue per
      -- key. A job leaves the index when its state leaves the live ones, in the UPDATE that
      -- finishes it; jobs without a key are not in it (nothing on their ack path).
      ALTER TABLE jobs ADD COLUMN unique_key TEXT;
      CREATE UNIQUE INDEX jobs_unique ON jobs (queue, unique_key)
        WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'ready', 'active');
      -- uniqueWindowMs: until when a job holds its key once finished (created_at + the window).
      -- Only jobs added with a window are in the index that finds them.
      ALTER TABLE jobs ADD COLUMN unique_until INTEGER;
      CREATE INDEX jobs_unique_window ON jobs (queue, unique_key, unique_until) WHERE unique_until IS NOT NULL;
    `,
  },
  {
    version: 20,
    name: 'resource tags',
    sql: `
      -- The add option requires: the resource tags a worker must carry to lease the job, sorted
      -- and joined by commas; NULL when none. A claim passes over the jobs its worker cannot
      -- take (no index: it filters the rows it reads in claim order). The partial index lets the
      -- stats count the waiting jobs no live worker can take by their distinct tag sets, without
      -- reading the queue's other jobs; jobs without tags are not in it.
      ALTER TABLE jobs ADD COLUMN requires TEXT;
      CREATE INDEX jobs_requires ON jobs (queue, requires) WHERE requires IS NOT NULL AND state = 'ready';
      -- What each process consumes (resource-aware dispatch): a JSON array of
      -- {"queue", "tags", "capacity"}, rewritten when its consumers change; the stats read it.
      ALTER TABLE workers ADD COLUMN consumers TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    version: 22,
    name: 'cron schedules',
    sql: `
      -- Cron and repeat schedules (src/core/schedule.ts): the definition, and the next slot a job
      -- is added for. A firing moves next_at forward with a compare-and-set on (next_at,
      -- updated_at) in the transaction that adds the slot's jobs: that pair is the slot's key,
      -- so of processes firing one slot, one adds its job. last_slot only grows, and a replace
      -- or resume sets next_at past it, so a slot never comes round again.
      CREATE TABLE schedules (
        name        TEXT PRIMARY KEY,
        queue       TEXT NOT NULL,
        cron        TEXT,
        timezone    TEXT,
        every_ms    INTEGER,
        payload     TEXT NOT NULL,
        job         TEXT NOT NULL,
        catch_up    TEXT NOT NULL,
        paused      INTEGER NOT NULL DEFAULT 0,
        next_at     INTEGER,
        last_slot   INTEGER,
        fired       INTEGER NOT NULL DEFAULT 0,
        missed      INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- Every process reads the earliest next slot to arm its timer.
      CREATE INDEX schedules_next ON schedules (next_at) WHERE paused = 0 AND next_at IS NOT NULL;
    `,
  },
  {
    version: 23,
    name: 'topic routing',
    sql: `
      -- Bindings of topic patterns to queues (docs/routing.md); a pair at most once.
      CREATE TABLE topic_bindings (
        pattern    TEXT NOT NULL,
        queue      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (pattern, queue)
      ) WITHOUT ROWID;
      -- One row: the routing version (raised by every change of the bindings or of the unrouted
      -- queue, checked by each publish in its transaction), the unrouted queue, and the count of
      -- publishes that matched no binding.
      CREATE TABLE topic_routing (
        id             INTEGER PRIMARY KEY CHECK (id = 1),
        version        INTEGER NOT NULL,
        unrouted_queue TEXT,
        unrouted       INTEGER NOT NULL
      );
      INSERT INTO topic_routing (id, version, unrouted_queue, unrouted) VALUES (1, 0, NULL, 0);
    `,
  },
];
