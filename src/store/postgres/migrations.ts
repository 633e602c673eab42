/**
 * Numbered migrations of the PostgreSQL store. Every statement names the
 * store's schema through `s`, so one database can hold several Spools (and the
 * tests one schema each). They run at start-up and by `spool migrate`, under a
 * transaction-level advisory lock, so concurrent starters migrate once.
 * Never edit a released migration: add the next number.
 */
export interface PgMigration {
  version: number;
  name: string;
  sql: (s: string) => string;
}

const JOB_COLUMNS = (s: string, table: string) => `
        id                uuid PRIMARY KEY,
        queue             text NOT NULL,
        name              text NOT NULL,
        payload           jsonb NOT NULL,
        priority          integer NOT NULL,
        state             text NOT NULL,
        run_at            bigint NOT NULL,
        attempt           integer NOT NULL DEFAULT 0,
        max_attempts      integer NOT NULL,
        stalls            integer NOT NULL DEFAULT 0,
        max_stalls        integer NOT NULL,
        token             integer NOT NULL DEFAULT 0,
        lease_expires_at  bigint,
        started_at        bigint,
        worker_id         uuid,
        created_at        bigint NOT NULL,
        updated_at        bigint NOT NULL,
        last_error        text,
        history           jsonb NOT NULL DEFAULT '[]'::jsonb${table === 'finished' ? `,
        finished_at       bigint NOT NULL,
        result            jsonb,
        dead_reason       text` : ''}`;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial',
    sql: (s) => `
      CREATE TABLE ${s}.queues (
        name        text PRIMARY KEY,
        config      jsonb NOT NULL,
        paused      boolean NOT NULL DEFAULT false,
        created_at  bigint NOT NULL,
        updated_at  bigint NOT NULL
      );

      -- Live jobs only (scheduled, ready, active): the hot set stays small, so its indexes
      -- stay in memory and vacuum keeps up. Finished jobs move to jobs_finished.
      CREATE TABLE ${s}.jobs (${JOB_COLUMNS(s, 'live')},
        CONSTRAINT jobs_live_state CHECK (state IN ('scheduled', 'ready', 'active'))
      ) WITH (fillfactor = 80);
      -- Claim order: priority, then ready time, then id; only ready rows are indexed.
      CREATE INDEX jobs_ready ON ${s}.jobs (queue, priority DESC, run_at, id) WHERE state = 'ready';
      -- Delayed and backed-off jobs, by when they fall due.
      CREATE INDEX jobs_scheduled ON ${s}.jobs (run_at) WHERE state = 'scheduled';
      -- The lease reaper, and releasing the leases of a dead worker.
      CREATE INDEX jobs_leased ON ${s}.jobs (lease_expires_at) WHERE state = 'active';
      CREATE INDEX jobs_worker ON ${s}.jobs (worker_id) WHERE state = 'active';
      -- Listing by state with an id cursor, and counts per state.
      CREATE INDEX jobs_queue_state ON ${s}.jobs (queue, state, id);

      -- Completed, dead and cancelled jobs, kept for their retention.
      CREATE TABLE ${s}.jobs_finished (${JOB_COLUMNS(s, 'finished')},
        CONSTRAINT jobs_finished_state CHECK (state IN ('completed', 'dead', 'cancelled'))
      );
      CREATE INDEX jobs_finished_queue_state ON ${s}.jobs_finished (queue, state, id);
      CREATE INDEX jobs_finished_retention ON ${s}.jobs_finished (state, finished_at);

      -- Processes using this schema, with heartbeats; a worker that stops beating loses its leases.
      CREATE TABLE ${s}.workers (
        id             uuid PRIMARY KEY,
        host           text NOT NULL,
        pid            integer NOT NULL,
        started_at     bigint NOT NULL,
        heartbeat_at   bigint NOT NULL,
        expires_at     bigint NOT NULL
      );

      -- Leadership for duties one process must do (reaping, promotion, cleanup), with fencing epochs.
      CREATE TABLE ${s}.leaders (
        name        text PRIMARY KEY,
        holder      uuid NOT NULL,
        epoch       bigint NOT NULL,
        expires_at  timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'api tokens',
    sql: (s) => `
      -- API tokens of the broker: only a hash of each token is kept.
      CREATE TABLE ${s}.tokens (
        id          text PRIMARY KEY,
        name        text NOT NULL,
        hash        text NOT NULL,
        scopes      text[] NOT NULL,
        created_at  bigint NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'token expiry, last use, and tokens enabled for good',
    sql: (s) => `
      -- When a token stops being accepted (null: never), and when a broker last recorded accepting
      -- it (each broker writes it at most once per token per interval, never on every request).
      ALTER TABLE ${s}.tokens ADD COLUMN expires_at bigint, ADD COLUMN last_used_at bigint;

      -- Durable facts about this schema, one row each. 'tokens_enabled_at': when the first token was
      -- saved; it stays when the last token is revoked, so brokers in auto mode keep requiring tokens.
      CREATE TABLE ${s}.settings (
        name   text PRIMARY KEY,
        value  text NOT NULL
      );
      -- A schema that already holds tokens has had them.
      INSERT INTO ${s}.settings (name, value)
        SELECT 'tokens_enabled_at', at::text FROM (SELECT min(created_at) AS at FROM ${s}.tokens) m WHERE at IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: 'attempt timeout, progress and log lines',
    sql: (s) => `
      -- Added by a new migration, never by editing JOB_COLUMNS of version 1: schemas already at
      -- version 3 must get the columns too (and a new schema gets them in the same order, at the
      -- end of each table). Existing jobs get no timeout (0), no progress and no lines; constant
      -- defaults, so neither table is rewritten.
      -- timeout_ms: the longest one attempt may run, in ms (0: no limit). progress: the last value
      -- a handler reported, NULL when none. logs: the handler's lines, a jsonb array of
      -- {at, attempt, line}, oldest first, kept in the job's row so that they move with it between
      -- jobs and jobs_finished and every path that deletes a job deletes them with it.
      ALTER TABLE ${s}.jobs ADD COLUMN timeout_ms integer NOT NULL DEFAULT 0,
        ADD COLUMN progress jsonb, ADD COLUMN logs jsonb NOT NULL DEFAULT '[]'::jsonb;
      ALTER TABLE ${s}.jobs_finished ADD COLUMN timeout_ms integer NOT NULL DEFAULT 0,
        ADD COLUMN progress jsonb, ADD COLUMN logs jsonb NOT NULL DEFAULT '[]'::jsonb;
    `,
  },
  {
    version: 5,
    name: 'trace context',
    sql: (s) => `
      -- The W3C trace context of the span that added the job, {traceparent, tracestate?}, NULL
      -- when none (every job added before this version): a worker's span links to it. In both
      -- tables, at the end of each, as version 4's columns; nullable without a default, so
      -- neither table is rewritten.
      ALTER TABLE ${s}.jobs ADD COLUMN trace jsonb;
      ALTER TABLE ${s}.jobs_finished ADD COLUMN trace jsonb;
    `,
  },
];

export const PG_LATEST_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;
