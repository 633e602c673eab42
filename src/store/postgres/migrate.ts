import { SchemaTooNewError } from '../../core/errors.ts';
import { PG_LATEST_SCHEMA_VERSION, PG_MIGRATIONS } from './migrations.ts';
import type { PgPool } from './pg-client.ts';

/** Advisory lock key for migrations, paired with the schema's hash so schemas migrate independently. */
const MIGRATION_LOCK = 0x5f00_1000;

/**
 * Brings `schema` to the latest version in one transaction under an advisory lock, so
 * processes starting together migrate once. With `migrate` false, a schema that is
 * behind is refused. Returns the version found before migrating (0 for a new schema).
 * @throws SchemaTooNewError when a newer Spool wrote the schema, or it is behind and `migrate` is false.
 */
export async function migrateSchema(pool: PgPool, schema: string, migrate: boolean): Promise<number> {
  return pool.transaction(async (tx) => {
    await tx.q(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [MIGRATION_LOCK, schema]);
    await tx.q(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.q(`CREATE TABLE IF NOT EXISTS ${schema}.schema_version (version integer NOT NULL)`);
    const rows = await tx.q(`SELECT max(version) AS v FROM ${schema}.schema_version`);
    const current = (rows[0]?.v as number | null) ?? 0;
    if (current > PG_LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(`PostgreSQL schema "${schema}"`, current, PG_LATEST_SCHEMA_VERSION);
    if (current < PG_LATEST_SCHEMA_VERSION && !migrate) {
      throw new SchemaTooNewError(`PostgreSQL schema "${schema}" (behind: run \`spool migrate\`)`, current, PG_LATEST_SCHEMA_VERSION);
    }
    for (const m of PG_MIGRATIONS) {
      if (m.version <= current) continue;
      await tx.q(m.sql(schema));
      await tx.q(`INSERT INTO ${schema}.schema_version (version) VALUES ($1)`, [m.version]);
    }
    return current;
  });
}
