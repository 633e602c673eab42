/**
 * Numbered schema migrations for the SQLite store, applied in order at open,
 * inside one write transaction so two processes opening the same file at once
 * cannot both migrate. The applied version lives in `PRAGMA user_version`.
 * Never edit a released migration: add the next number.
 */
import { SCHEDULING_MIGRATIONS } from './migrations-scheduling.ts';
import { FLOW_MIGRATIONS } from './migrations-flows.ts';
import { LEASE_MIGRATIONS } from './migrations-leases.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE queues (
        name        TEXT PRIMARY KEY,
        config      TEXT NOT NULL,
        paused      INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      ) WITHOUT ROWID;

      -- One row per job, keyed by its time-sortable id so inserts append.
      CREATE TABLE jobs (
        id                TEXT PRIMARY KEY,
        queue             TEXT NOT NULL,
        name              TEXT NOT NULL,
        payload           TEXT NOT NULL,
        priority          INTEGER NOT NULL,
        state             TEXT NOT NULL,
        run_at            INTEGER NOT NULL,
        attempt           INTEGER NOT NULL DEFAULT 0,
        max_attempts      INTEGER NOT NULL,
        stalls            INTEGER NOT NULL DEFAULT 0,
        max_stalls        INTEGER NOT NULL,
        token             INTEGER NOT NULL DEFAULT 0,
        lease_expires_at  INTEGER,
        started_at        INTEGER,
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL,
        finished_at       INTEGER,
        last_error        TEXT,
        result            TEXT,
        dead_reason       TEXT,
        history           TEXT NOT NULL DEFAULT '[]'
      ) WITHOUT ROWID;

      -- Claim order: highest priority, then earliest ready time, then id. Only ready rows are indexed.
      CREATE INDEX jobs_ready ON jobs (queue, priority DESC, run_at, id) WHERE state = 'ready';
      -- Promotion of delayed and backed-off jobs.
      CREATE INDEX jobs_scheduled ON jobs (run_at) WHERE state = 'scheduled';
      -- The lease reaper.
      CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'active';
      -- Listing by state with an id cursor, and counts per state.
      CREATE INDEX jobs_queue_state ON jobs (queue, state, id);
      -- Retention of finished jobs.
      CREATE INDEX jobs_finished ON jobs (state, finished_at) WHERE finished_at IS NOT NULL;
    `,
  },
  {
    version: 2,
    name: 'api tokens',
    sql: `
      -- API tokens of the broker: only a hash of each token is kept; scopes are a JSON array of texts.
      CREATE TABLE tokens (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        hash        TEXT NOT NULL,
        scopes      TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'reaper without a deadline index',
    sql: `
      -- Every claim added a row to this index and every ack removed it again: about a sixth of
      -- the cost of a claim and an ack. The reaper now reads the active jobs of each queue from
      -- jobs_queue_state instead: there are only as many as consumers hold leases.
      DROP INDEX jobs_leased;
    `,
  },
  {
    version: 4,
    name: 'token expiry, last use, and tokens enabled for good',
    sql: `
      -- When a token stops being accepted (null: never), and when a broker last recorded accepting
      -- it (each broker writes it at most once per token per interval, never on every request).
      ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
      ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;

      -- Durable facts about this store, one row each. 'tokens_enabled_at': when the first token was
      -- saved; it stays when the last token is revoked, so brokers in auto mode keep requiring tokens.
      CREATE TABLE settings (
        name   TEXT PRIMARY KEY,
        value  TEXT NOT NULL
      ) WITHOUT ROWID;
      -- A store that already holds tokens has had them.
      INSERT INTO settings (name, value)
        SELECT 'tokens_enabled_at', CAST(at AS TEXT) FROM (SELECT min(created_at) AS at FROM tokens) WHERE at IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'attempt timeout, progress and log lines',
    sql: `
      -- Added by a new migration, never by editing version 1: stores already at version 4 must
      -- get the columns too. Existing jobs get no timeout (0), no progress and no lines.
      -- The longest one attempt may run, in ms (0: no limit).
      ALTER TABLE jobs ADD COLUMN timeout_ms INTEGER NOT NULL DEFAULT 0;
      -- The last progress a handler reported: JSON text, NULL when none.
      ALTER TABLE jobs ADD COLUMN progress TEXT;
      -- The handler's log lines, a JSON array of {at, attempt, line}, oldest first. Kept in the
      -- job's row so that every path that deletes a job (delete, purge, retention, queue delete)
      -- deletes them with it. Job reads leave the column out: only jobLogs reads it.
      ALTER TABLE jobs ADD COLUMN logs TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    version: 6,
    name: 'trace context',
    sql: `
      -- The W3C trace context of the span that added the job, JSON text {traceparent, tracestate?},
      -- NULL when none (every job added before this version): a worker's span links to it.
      ALTER TABLE jobs ADD COLUMN trace TEXT;
    `,
  },
  {
    version: 7,
    name: 'job counts per queue and state',
    sql: `
      -- How many jobs each queue has in each state, so stats never count the jobs table. The
      -- store keeps it (count-ledger.ts): each write notes how it moved jobs between states, and
      -- the sums are added here in the same transaction, once per group commit. A row at 0 may
      -- stay (reads skip it); a deleted queue's rows are deleted with it.
      CREATE TABLE queue_counts (
        queue  TEXT NOT NULL,
        state  TEXT NOT NULL,
        n      INTEGER NOT NULL,
        PRIMARY KEY (queue, state)
      ) WITHOUT ROWID;
      -- One scan of the jobs at migration, under the write lock: the store counts from here on.
      INSERT INTO queue_counts (queue, state, n) SELECT queue, state, count(*) FROM jobs GROUP BY queue, state;
    `,
  },
  {
    version: 8,
    name: 'process snapshots for the cluster-wide model',
    sql: `
      -- Each process that shares this store publishes a snapshot of itself about once a second:
      -- per queue, the counts it made since it started (JSON text, only ever growing), and what
      -- it holds now (JSON text: worker slots, consumers). One row per process, written only by it.
      CREATE TABLE process_snapshots (
        id      TEXT PRIMARY KEY,
        host    TEXT NOT NULL,
        pid     INTEGER NOT NULL,
        at      INTEGER NOT NULL,
        counts  TEXT NOT NULL,
        live    TEXT NOT NULL
      ) WITHOUT ROWID;
      -- The counts of processes that stopped publishing, summed per queue (JSON text of the
      -- fields), added here in the transaction that deletes their snapshots: the totals never go down.
      CREATE TABLE process_counts_retired (
        queue   TEXT PRIMARY KEY,
        counts  TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: 'alert rules and events',
    sql: `
      -- Alert rules (src/alerts/rules.ts): the definition, the secret that signs webhook calls,
      -- and where the rule stands, written by the leader's evaluation.
      CREATE TABLE alert_rules (
        id           TEXT PRIMARY KEY,
        queue        TEXT NOT NULL,
        kind         TEXT NOT NULL,
        threshold    REAL NOT NULL,
        for_ms       INTEGER NOT NULL,
        webhook      TEXT NOT NULL,
        secret       TEXT,
        state        TEXT NOT NULL DEFAULT 'ok',
        since        INTEGER,
        value        REAL,
        evaluated_at INTEGER,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- Firings and resolutions, newest with the largest id, each with its webhook call: the URL
      -- and secret are copied so the last event of a deleted rule is still sent.
      CREATE TABLE alert_events (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        rule_id       TEXT NOT NULL,
        queue         TEXT NOT NULL,
        kind          TEXT NOT NULL,
        event         TEXT NOT NULL,
        value         REAL,
        threshold     REAL NOT NULL,
        reason        TEXT NOT NULL,
        at            INTEGER NOT NULL,
        webhook       TEXT NOT NULL,
        secret        TEXT,
        delivery      TEXT NOT NULL DEFAULT 'pending',
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_at       INTEGER NOT NULL,
        last_error    TEXT,
        delivered_at  INTEGER
      );
      CREATE INDEX alert_events_due ON alert_events (next_at) WHERE delivery = 'pending';
      CREATE INDEX alert_events_rule ON alert_events (rule_id, id);
    `,
  },
  {
    version: 10,
    name: 'job groups',
    sql: `
      -- The group (tenant, customer) a job belongs to, from the group add option; NULL when
      -- none (every job added before this version). GROUP is an SQL keyword, hence group_key.
      ALTER TABLE jobs ADD COLUMN group_key TEXT;
      -- A listing (or bulk action) by group reads the group's jobs of the queue in id order, from
      -- the cursor; a state or name filter applies to those rows alone. Partial: jobs without a
      -- group cost no index entry.
      CREATE INDEX jobs_queue_group ON jobs (queue, group_key, id) WHERE group_key IS NOT NULL;
    `,
  },
  {
    version: 11,
    name: 'publish keys',
    sql: `
      -- The idempotency keys of adds (AddOptions.idempotencyKey): which job a key of a queue
      -- created, written in the transaction of the job's insert. Kept for idempotencyWindowMs
      -- (the leader deletes older rows in batches, by created_at); not tied to the job's row,
      -- so a key outlives a job deleted sooner.
      CREATE TABLE publish_keys (
        queue       TEXT NOT NULL,
        key         TEXT NOT NULL,
        job_id      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (queue, key)
      );
      CREATE INDEX publish_keys_created ON publish_keys (created_at);
    `,
  },
  {
    version: 12,
    name: 'publish keys expire in rowid order',
    sql: `
      -- Keys are recorded in rowid order (a key past the window is replaced by a new row, never
      -- updated in place; version 11 did the same with INSERT OR REPLACE), so the expiry deletes
      -- from the first rowids and needs no index on created_at: a b-tree less to write per keyed add.
      DROP INDEX publish_keys_created;
    `,
  },
  ...SCHEDULING_MIGRATIONS,
  ...FLOW_MIGRATIONS,
  ...LEASE_MIGRATIONS,
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
