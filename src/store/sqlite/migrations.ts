/**
 * Numbered schema migrations for the SQLite store, applied in order at open,
 * inside one write transaction so two processes opening the same file at once
 * cannot both migrate. The applied version lives in `PRAGMA user_version`.
 * Never edit a released migration: add the next number.
 */
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
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
