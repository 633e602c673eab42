/**
 * The PostgreSQL store's topic routing migration (docs/routing.md), appended to PG_MIGRATIONS in
 * migrations.ts. Never edit a released migration: add the next number.
 */
import type { PgMigration } from './migrations.ts';

export const ROUTING_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 20,
    name: 'topic routing',
    sql: (s) => `
      -- Bindings of topic patterns to queues; a pair at most once.
      CREATE TABLE ${s}.topic_bindings (
        pattern    text NOT NULL,
        queue      text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (pattern, queue)
      );
      -- One row: the routing version and the unrouted queue. Every publish reads it FOR SHARE in
      -- its transaction and every change of the routing updates it, so a bind or unbind and the
      -- publishes serialize on it: no publish commits routed by a version older than one
      -- committed before it read.
      CREATE TABLE ${s}.topic_routing (
        id             integer PRIMARY KEY CHECK (id = 1),
        version        bigint NOT NULL,
        unrouted_queue text
      );
      INSERT INTO ${s}.topic_routing (id, version, unrouted_queue) VALUES (1, 0, NULL);
      -- Publishes that matched no binding: a row of its own, so counting one never waits for the
      -- publishes holding the routing row FOR SHARE.
      CREATE TABLE ${s}.topic_unrouted (
        id    integer PRIMARY KEY CHECK (id = 1),
        count bigint NOT NULL
      );
      INSERT INTO ${s}.topic_unrouted (id, count) VALUES (1, 0);
    `,
  },
];
