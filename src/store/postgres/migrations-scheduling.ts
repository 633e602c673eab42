/**
 * The PostgreSQL store's migrations from version 12 on (scheduling policies, rate limits,
 * concurrency keys, unique keys, cron schedules), appended to PG_MIGRATIONS in migrations.ts. Never edit a
 * released migration: add the next number.
 */
import type { PgMigration } from './migrations.ts';

export const SCHEDULING_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 12,
    name: 'scheduling policies',
    sql: (s) => `
      -- The cost add option (expected run time in ms), and the job's key in the order of a queue
      -- whose policy is not fifo (computed at its add, and again for live jobs when the policy
      -- changes; NULL in a fifo queue). In both tables: an operator retry brings both back.
      ALTER TABLE ${s}.jobs ADD COLUMN cost double precision, ADD COLUMN sort_key double precision;
      ALTER TABLE ${s}.jobs_finished ADD COLUMN cost double precision, ADD COLUMN sort_key double precision;
      -- Claims of such queues: lowest key first. Partial: a fifo job costs no index entry.
      CREATE INDEX jobs_sorted ON ${s}.jobs (queue, sort_key, id) WHERE state = 'ready' AND sort_key IS NOT NULL;
      -- Policy fair: the last virtual finish tag issued to each group of a queue ('' for jobs without a group).
      CREATE TABLE ${s}.fair_tags (
        queue     text NOT NULL,
        group_key text NOT NULL,
        last_tag  double precision NOT NULL,
        PRIMARY KEY (queue, group_key)
      );
      -- Policy sjf: the learned run time of each job name of a queue (an exponentially weighted mean).
      CREATE TABLE ${s}.run_estimates (
        queue    text NOT NULL,
        name     text NOT NULL,
        mean_ms  double precision NOT NULL,
        samples  bigint NOT NULL,
        PRIMARY KEY (queue, name)
      );
    `,
  },
  {
    version: 13,
    name: 'rate limit buckets',
    sql: (s) => `
      -- The token buckets of rate limits (queue setting rateLimit), one row per bucket: a queue's
      -- own ('queue:<name>') or a limiter several queues share ('limiter:<name>'). Counted in
      -- integer units (a token is per_ms units; rate units accrue per ms), refilled by the take,
      -- one UPDATE that locks the row, so concurrent takes of any process queue up on it and none
      -- reads tokens another took.
      CREATE TABLE ${s}.rate_limits (
        name        text PRIMARY KEY,
        units       bigint NOT NULL,
        updated_at  bigint NOT NULL,
        rate        bigint NOT NULL,
        per_ms      bigint NOT NULL,
        burst       bigint NOT NULL,
        -- What the last take took: its UPDATE returns it (RETURNING sees only the new row).
        taken       bigint NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 14,
    name: 'concurrency keys',
    sql: (s) => `
      -- The concurrencyKey add option (the key a queue's concurrencyLimit counts active jobs by);
      -- NULL when none. In both tables: an operator retry brings it back. No index: a claim of a
      -- limited queue reads the queue's ready and active jobs, and other claims never read it.
      ALTER TABLE ${s}.jobs ADD COLUMN concurrency_key text;
      ALTER TABLE ${s}.jobs_finished ADD COLUMN concurrency_key text;
    `,
  },
  {
    version: 15,
    name: 'unique keys',
    sql: (s) => `
      -- The add option uniqueKey: at most one live job of a queue per key. jobs holds only live
      -- jobs (finished ones move to jobs_finished), so a job frees its key in the statement that
      -- finishes it, and the index is partial: jobs without a key are not in it.
      ALTER TABLE ${s}.jobs ADD COLUMN unique_key text, ADD COLUMN unique_until bigint;
      CREATE UNIQUE INDEX jobs_unique ON ${s}.jobs (queue, unique_key) WHERE unique_key IS NOT NULL;
      -- uniqueWindowMs: a finished job keeps its key (until unique_until, its add plus the window)
      -- only when the window is still open as it finishes; only those rows are in the index.
      ALTER TABLE ${s}.jobs_finished ADD COLUMN unique_key text, ADD COLUMN unique_until bigint;
      CREATE INDEX jobs_finished_unique ON ${s}.jobs_finished (queue, unique_key, unique_until) WHERE unique_key IS NOT NULL;
    `,
  },
  {
    version: 17,
    name: 'resource tags',
    sql: (s) => `
      -- The add option requires: the resource tags a worker must carry to lease the job, sorted
      -- and joined by commas; NULL when none. In both tables: an operator retry brings it back.
      -- A claim passes over the jobs its worker cannot take (it filters the rows it reads in
      -- claim order). The partial index lets the stats count the ready jobs no live worker can
      -- take by their distinct tag sets; jobs without tags are not in it.
      ALTER TABLE ${s}.jobs ADD COLUMN requires text;
      ALTER TABLE ${s}.jobs_finished ADD COLUMN requires text;
      CREATE INDEX jobs_requires ON ${s}.jobs (queue, requires) WHERE requires IS NOT NULL AND state = 'ready';
      -- What each process consumes (resource-aware dispatch): a JSON array of
      -- {"queue", "tags", "capacity"}, rewritten when its consumers change; the stats read it.
      ALTER TABLE ${s}.workers ADD COLUMN consumers jsonb NOT NULL DEFAULT '[]';
    `,
  },
  {
    version: 19,
    name: 'cron schedules',
    sql: (s) => `
      -- Cron and repeat schedules (src/core/schedule.ts): the definition, and the next slot a job
      -- is added for. A firing moves next_at forward with a compare-and-set on (next_at,
      -- updated_at) in the transaction that adds the slot's jobs: that pair is the slot's key,
      -- so of processes firing one slot, one adds its job. last_slot only grows, and a replace
      -- or resume sets next_at past it, so a slot never comes round again.
      CREATE TABLE ${s}.schedules (
        name        text PRIMARY KEY,
        queue       text NOT NULL,
        cron        text,
        timezone    text,
        every_ms    bigint,
        payload     text NOT NULL,
        job         text NOT NULL,
        catch_up    text NOT NULL,
        paused      boolean NOT NULL DEFAULT false,
        next_at     bigint,
        last_slot   bigint,
        fired       bigint NOT NULL DEFAULT 0,
        missed      bigint NOT NULL DEFAULT 0,
        created_at  bigint NOT NULL,
        updated_at  bigint NOT NULL
      );
      -- Every process reads the earliest next slot to arm its timer.
      CREATE INDEX schedules_next ON ${s}.schedules (next_at) WHERE NOT paused AND next_at IS NOT NULL;
    `,
  },
];
