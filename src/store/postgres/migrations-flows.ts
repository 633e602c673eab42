/**
 * The PostgreSQL store's flow migration (docs/flows.md), appended to PG_MIGRATIONS in
 * migrations.ts. Never edit a released migration: add the next number.
 */
import type { PgMigration } from './migrations.ts';

export const FLOW_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 21,
    name: 'flows',
    sql: (s) => `
      -- A flow's parent, once its children have finished: how each ended (a jsonb array of
      -- {id, queue, name, state, result, error}); NULL on every other job. In both tables, at the
      -- end of each (nullable without a default: neither table is rewritten); every statement
      -- that moves a job between them names it.
      ALTER TABLE ${s}.jobs ADD COLUMN child_results jsonb;
      ALTER TABLE ${s}.jobs_finished ADD COLUMN child_results jsonb;
      -- One row per flow, keyed by its parent's id. state: waiting, ready, failed or ended. A
      -- settling locks the row (FOR UPDATE), so two processes never settle one flow at once.
      CREATE TABLE ${s}.flows (
        parent_id   uuid PRIMARY KEY,
        queue       text NOT NULL,
        rule        text NOT NULL,
        state       text NOT NULL,
        created_at  bigint NOT NULL,
        settled_at  bigint
      );
      -- The safety net's sweep pages through the waiting flows by parent id.
      CREATE INDEX flows_waiting ON ${s}.flows (parent_id) WHERE state = 'waiting';
      -- A flow's children, in order; the key finds a finished job's flow (an ack asks it).
      CREATE TABLE ${s}.flow_children (
        child_id   uuid PRIMARY KEY,
        parent_id  uuid NOT NULL,
        position   integer NOT NULL,
        queue      text NOT NULL,
        name       text NOT NULL
      );
      CREATE INDEX flow_children_parent ON ${s}.flow_children (parent_id, position);
    `,
  },
];
