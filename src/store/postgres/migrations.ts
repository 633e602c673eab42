/**
 * Numbered migrations of the PostgreSQL store. Every statement names the
 * store's schema through `s`, so one database can hold several Spools (and the
 * tests one schema each). They run at start-up and by `spool migrate`, under a
 * transaction-level advisory lock, so concurrent starters migrate once.
 * Never edit a released migration: add the next number.
 */
import { CLAIM_MIGRATIONS } from './migrations-claims.ts';
import { SCHEDULING_MIGRATIONS } from './migrations-scheduling.ts';
import { ROUTING_MIGRATIONS } from './migrations-routing.ts';
import { FLOW_MIGRATIONS } from './migrations-flows.ts';

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
  {
    version: 6,
    name: 'job counts per queue and state, from deltas written by triggers',
    sql: (s) => `
      -- How many jobs each queue has in each state. Writers never update these rows (a row every
      -- job change updated would serialize all writers): each statement that inserts, moves or
      -- deletes jobs appends its net change per (queue, state) to queue_count_deltas, and the
      -- leader folds the deltas into queue_counts (countsRollup). A count is queue_counts plus
      -- the deltas not folded yet, read in one snapshot. Rows at 0 are deleted by the fold.
      CREATE TABLE ${s}.queue_counts (
        queue  text NOT NULL,
        state  text NOT NULL,
        n      bigint NOT NULL,
        PRIMARY KEY (queue, state)
      );
      -- Insert-only for writers (no index: an append is all a job change costs); the fold deletes what it read.
      CREATE TABLE ${s}.queue_count_deltas (
        queue  text NOT NULL,
        state  text NOT NULL,
        d      bigint NOT NULL
      );

      -- Statement-level triggers with transition tables: one delta row per (queue, state) a
      -- statement changed, however many jobs it changed, on both tables, so every path that
      -- moves jobs between them (settle, cancel, retry, reap) or deletes them (retention, purge,
      -- operator and queue delete) is counted. An update counts only the states it changed.
      CREATE FUNCTION ${s}.queue_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${s}.queue_count_deltas (queue, state, d) SELECT queue, state, count(*) FROM new_rows GROUP BY queue, state;
        RETURN NULL;
      END $$;
      CREATE FUNCTION ${s}.queue_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${s}.queue_count_deltas (queue, state, d) SELECT queue, state, -count(*) FROM old_rows GROUP BY queue, state;
        RETURN NULL;
      END $$;
      CREATE FUNCTION ${s}.queue_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${s}.queue_count_deltas (queue, state, d)
          SELECT queue, state, sum(d) FROM (
            SELECT queue, state, -1 AS d FROM old_rows UNION ALL SELECT queue, state, 1 FROM new_rows) x
          GROUP BY queue, state HAVING sum(d) <> 0;
        RETURN NULL;
      END $$;
      -- Creating the triggers locks both tables against writes until this migration commits, so
      -- the counts seeded below (one scan, at migration) miss nothing and count nothing twice.
      CREATE TRIGGER jobs_count_insert AFTER INSERT ON ${s}.jobs REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.queue_counts_inserted();
      CREATE TRIGGER jobs_count_delete AFTER DELETE ON ${s}.jobs REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.queue_counts_deleted();
      CREATE TRIGGER jobs_count_update AFTER UPDATE ON ${s}.jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.queue_counts_updated();
      CREATE TRIGGER jobs_finished_count_insert AFTER INSERT ON ${s}.jobs_finished REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.queue_counts_inserted();
      CREATE TRIGGER jobs_finished_count_delete AFTER DELETE ON ${s}.jobs_finished REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.queue_counts_deleted();
      CREATE TRIGGER jobs_finished_count_update AFTER UPDATE ON ${s}.jobs_finished REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.queue_counts_updated();
      INSERT INTO ${s}.queue_counts (queue, state, n)
        SELECT queue, state, count(*) FROM ${s}.jobs GROUP BY queue, state
        UNION ALL SELECT queue, state, count(*) FROM ${s}.jobs_finished GROUP BY queue, state;
    `,
  },
  {
    version: 7,
    name: 'process snapshots for the cluster-wide model',
    sql: (s) => `
      -- Each process on this schema publishes a snapshot of itself about once a second: per
      -- queue, the counts it made since it started (JSON text, only ever growing), and what it
      -- holds now (JSON text: worker slots, consumers). One row per process, written only by it.
      CREATE TABLE ${s}.process_snapshots (
        id      text PRIMARY KEY,
        host    text NOT NULL,
        pid     integer NOT NULL,
        at      bigint NOT NULL,
        counts  text NOT NULL,
        live    text NOT NULL
      );
      -- The counts of processes that stopped publishing, summed per queue (JSON text of the
      -- fields), added here by the leader in the transaction that deletes their snapshots: the
      -- totals never go down.
      CREATE TABLE ${s}.process_counts_retired (
        queue   text PRIMARY KEY,
        counts  text NOT NULL
      );
    `,
  },
  {
    version: 8,
    name: 'alert rules and events',
    sql: (s) => `
      -- Alert rules (src/alerts/rules.ts): the definition, the secret that signs webhook calls,
      -- and where the rule stands, written by the leader's evaluation.
      CREATE TABLE ${s}.alert_rules (
        id           text PRIMARY KEY,
        queue        text NOT NULL,
        kind         text NOT NULL,
        threshold    double precision NOT NULL,
        for_ms       bigint NOT NULL,
        webhook      text NOT NULL,
        secret       text,
        state        text NOT NULL DEFAULT 'ok',
        since        bigint,
        value        double precision,
        evaluated_at bigint,
        created_at   bigint NOT NULL,
        updated_at   bigint NOT NULL
      );
      -- Firings and resolutions, newest with the largest id, each with its webhook call: the URL
      -- and secret are copied so the last event of a deleted rule is still sent.
      CREATE TABLE ${s}.alert_events (
        id            bigserial PRIMARY KEY,
        rule_id       text NOT NULL,
        queue         text NOT NULL,
        kind          text NOT NULL,
        event         text NOT NULL,
        value         double precision,
        threshold     double precision NOT NULL,
        reason        text NOT NULL,
        at            bigint NOT NULL,
        webhook       text NOT NULL,
        secret        text,
        delivery      text NOT NULL DEFAULT 'pending',
        attempts      int NOT NULL DEFAULT 0,
        next_at       bigint NOT NULL,
        last_error    text,
        delivered_at  bigint
      );
      CREATE INDEX alert_events_due ON ${s}.alert_events (next_at) WHERE delivery = 'pending';
      CREATE INDEX alert_events_rule ON ${s}.alert_events (rule_id, id);
    `,
  },
  {
    version: 9,
    name: 'job groups',
    sql: (s) => `
      -- The group (tenant, customer) a job belongs to, from the group add option; NULL when none
      -- (every job added before this version). GROUP is an SQL keyword, hence group_key. In both
      -- tables, at the end of each, as version 5's column: nullable without a default, so neither
      -- table is rewritten; every statement that moves a job between them names it.
      ALTER TABLE ${s}.jobs ADD COLUMN group_key text;
      ALTER TABLE ${s}.jobs_finished ADD COLUMN group_key text;
      -- A listing (or bulk action) by group reads the group's jobs of the queue in id order, from
      -- the cursor, in each table; a state or name filter applies to those rows alone. Partial:
      -- jobs without a group cost no index entry.
      CREATE INDEX jobs_queue_group ON ${s}.jobs (queue, group_key, id) WHERE group_key IS NOT NULL;
      CREATE INDEX jobs_finished_queue_group ON ${s}.jobs_finished (queue, group_key, id) WHERE group_key IS NOT NULL;
    `,
  },
  {
    version: 10,
    name: 'publish keys',
    sql: (s) => `
      -- The idempotency keys of adds (AddOptions.idempotencyKey): which job a key of a queue
      -- created, written in the transaction of the job's insert (INSERT … ON CONFLICT DO NOTHING:
      -- of concurrent adds with one key, one wins). Kept for idempotencyWindowMs (the leader
      -- deletes older rows in batches, by created_at); not tied to the job's row.
      CREATE TABLE ${s}.publish_keys (
        queue       text NOT NULL,
        key         text NOT NULL,
        job_id      uuid NOT NULL,
        created_at  bigint NOT NULL,
        PRIMARY KEY (queue, key)
      );
      CREATE INDEX publish_keys_created ON ${s}.publish_keys (created_at);
    `,
  },
  {
    version: 11,
    name: 'job start deadlines',
    sql: (s) => `
      -- When a job must have started (first leased) by: its add time plus the ttlMs add option;
      -- NULL when none (every job added before this version). Past it, a job never started
      -- (token 0) is dead, reason 'expired', instead of run. In both tables, as version 9's column.
      ALTER TABLE ${s}.jobs ADD COLUMN expire_at bigint;
      ALTER TABLE ${s}.jobs_finished ADD COLUMN expire_at bigint;
      -- The claim and the leader's sweep find a queue's expired jobs by deadline. Partial: a job
      -- without a deadline, or one that has started, costs no index entry (live jobs with token 0
      -- are the scheduled and ready ones never leased).
      CREATE INDEX jobs_expiring ON ${s}.jobs (queue, expire_at) WHERE expire_at IS NOT NULL AND token = 0;
    `,
  },
  ...SCHEDULING_MIGRATIONS,
  ...ROUTING_MIGRATIONS,
  ...FLOW_MIGRATIONS,
  ...CLAIM_MIGRATIONS,
];

export const PG_LATEST_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;
