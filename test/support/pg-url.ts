/** The PostgreSQL the tests use (see test/global-setup.ts). PostgreSQL tests never skip: no URL is an error. */
export function testPgUrl(): string {
  const url = process.env.SPOOL_TEST_PG_URL;
  if (!url) throw new Error('SPOOL_TEST_PG_URL is not set: run the tests with `npm test` (which starts PostgreSQL) or point it at a server');
  return url;
}

let n = 0;
/** A schema name no other test uses. */
export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${n++}`;
}
