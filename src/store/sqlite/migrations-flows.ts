/**
 * The SQLite store's flow migration (docs/flows.md), appended to MIGRATIONS in migrations.ts.
 * Never edit a released migration: add the next number.
 */
import type { Migration } from './migrations.ts';

export const FLOW_MIGRATIONS: readonly Migration[] = [
  {
    version: 24,
    name: 'flows',
    sql: `
      -- A flow's parent, once its children have finished: how each ended (a JSON array of
      -- {id, queue, name, state, result, error}); NULL on every other job.
      ALTER TABLE jobs ADD COLUMN child_results TEXT;
      -- One row per flow, keyed by its parent's id. state: waiting, ready, failed or ended.
      CREATE TABLE flows (
        parent_id   TEXT PRIMARY KEY,
        queue       TEXT NOT NULL,
        rule        TEXT NOT NULL,
        state       TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        settled_at  INTEGER
      ) WITHOUT ROWID;
      -- The safety net's sweep pages through the waiting flows by parent id.
      CREATE INDEX flows_waiting ON flows (parent_id) WHERE state = 'waiting';
      -- A flow's children, in order; the key finds a finished job's flow (an ack asks it).
      CREATE TABLE flow_children (
        child_id   TEXT PRIMARY KEY,
        parent_id  TEXT NOT NULL,
        position   INTEGER NOT NULL,
        queue      TEXT NOT NULL,
        name       TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX flow_children_parent ON flow_children (parent_id, position);
    `,
  },
];
