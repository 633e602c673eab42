import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { serverSettings } from '../postgres-settings.ts';
import type { TargetContext } from '../target.ts';
import { SpoolServerTarget } from './spool-server.ts';

/**
 * Spool on PostgreSQL as docs/benchmarks.md defines it: a broker process (`spool serve`)
 * on the PostgreSQL store, in a fresh schema dropped on teardown, and producers
 * and workers in other processes reaching it over the WebSocket protocol on
 * loopback — as spool-server, with PostgreSQL behind the broker instead of
 * SQLite. Durability is the server's: its version and fsync /
 * synchronous_commit / full_page_writes are printed beside every figure. Memory
 * (W6) is the broker process's; PostgreSQL's own is not counted.
 * @example
 * const target = new SpoolPostgresTarget({ dataDir, postgresUrl: 'postgres://postgres:pw@127.0.0.1:5432/postgres' });
 */
export class SpoolPostgresTarget extends SpoolServerTarget {
  override readonly id: string = 'spool-postgres';
  readonly #url: string;
  readonly #schema = `bench_${randomBytes(6).toString('hex')}`;
  #startedBroker = false;

  constructor(context: TargetContext) {
    super(context);
    if (!context.postgresUrl) throw new Error('spool-postgres needs a PostgreSQL server: the runner passes one (set SPOOL_BENCH_PG_URL, or let the bench start one)');
    this.#url = context.postgresUrl;
  }

  protected override brokerStore(): { dataDir: string; schema: string } {
    this.#startedBroker = true;
    return { dataDir: this.#url, schema: this.#schema };
  }

  protected override describeDurability(): Promise<string> {
    return serverSettings(this.#url);
  }

  override async teardown(): Promise<void> {
    try {
      await super.teardown();
    } finally {
      if (this.#startedBroker) await this.#dropSchema();
    }
  }

  /** Drops the run's schema, so a 1,000,000-job run leaves nothing behind on the server. */
  async #dropSchema(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${this.#schema} CASCADE`);
    } finally {
      await client.end();
    }
  }
}
