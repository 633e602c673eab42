import { after } from 'node:test';
import postgres from 'postgres';
import { testPgUrl, uniqueSchema } from '../../../test/support/pg-url.ts';
import { runDriverConformance } from '../conformance/index.ts';
import { PG_LATEST_SCHEMA_VERSION } from './migrations.ts';
import { openPostgresStore } from './postgres-store.ts';

// Reads and writes the schema version past the store.
const sql = postgres(testPgUrl(), { max: 2, onnotice: () => {} });
after(() => sql.end());

// Each test gets a schema of its own on the shared test server.
runDriverConformance('postgres', {
  create: () => {
    const schema = uniqueSchema('d');
    return {
      shared: true,
      open: () => openPostgresStore({ url: testPgUrl(), schema, poolSize: 2 }),
      schema: {
        latest: PG_LATEST_SCHEMA_VERSION,
        read: async () => (await sql.unsafe(`SELECT max(version)::int AS v FROM ${schema}.schema_version`))[0]!.v as number,
        write: async (version) => void (await sql.unsafe(`INSERT INTO ${schema}.schema_version (version) VALUES (${version})`)),
      },
    };
  },
  // Nothing listens on port 1: the connection is refused at once.
  unreachable: () => openPostgresStore({ url: 'postgres://spool:spool@127.0.0.1:1/spool', schema: 'unreachable', notify: false }),
});
