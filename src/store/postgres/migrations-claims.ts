/**
 * The PostgreSQL store's claim migrations, appended to PG_MIGRATIONS in migrations.ts. Never edit
 * a released migration: add the next number.
 */
import type { PgMigration } from './migrations.ts';

/** The advisory lock class the limited claims of a queue take turns on (with the hash of the schema-qualified queue). */
export const CLAIM_LOCK = 0x5f00_3000;

export const CLAIM_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 22,
    name: 'claim gate',
    sql: (s) => `
      -- The gate of a queue with per-key limits that cannot bind (claim-statements.ts, the gated
      -- claim): called once from inside the claim statement, it takes the queue's claim lock
      -- (held to the end of the claim's transaction), then counts the queue's active jobs in a
      -- snapshot of its own, taken after the lock (a volatile function's statements each take
      -- one), so the count includes every earlier claim's leases. True when the claim's size on
      -- top of them stays within the smallest limit of the queue's keys: then no key can pass its
      -- limit whatever the claim takes. The claim is then one statement, where a transaction
      -- around the lock and the claim would cost three more round trips.
      CREATE FUNCTION ${s}.claim_gate(lock_name text, queue_name text, claim_size integer, smallest_limit integer)
        RETURNS boolean LANGUAGE plpgsql VOLATILE AS $gate$
      BEGIN
        PERFORM pg_advisory_xact_lock(${CLAIM_LOCK}, hashtext(lock_name));
        RETURN (SELECT count(*) FROM ${s}.jobs WHERE queue = queue_name AND state = 'active') + claim_size <= smallest_limit;
      END
      $gate$;
    `,
  },
];
