import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { OpenOptions } from '../../src/index.ts';
import { serverSettings } from '../postgres-settings.ts';
import type { AttachSpec, TargetContext } from '../target.ts';
import { SpoolInProcessTarget } from './spool-base.ts';

/**
 * Spool on PostgreSQL, the engine in this process (producer, engine and worker
 * together, as spool-embedded but on the PostgreSQL store). Each run gets a
 * fresh schema, dropped on teardown; the extra processes of a multi-process
 * workload attach to the creator's schema. Durability is the server's: its
 * version and fsync / synchronous_commit / full_page_writes are printed beside
 * every figure. Memory is this process's (PostgreSQL's own is not counted).
 * @example
 * const target = new SpoolPostgresTarget({ dataDir, postgresUrl: 'postgres://postgres:pw@127.0.0.1:5432/postgres' });
 */
export class SpoolPostgresTarget extends SpoolInProcessTarget {
  readonly id = 'spool-postgres';
  readonly #url: string;
  readonly #schema: string;
  /** True in the extra processes of a multi-process workload: the schema is someone else's. */
  readonly #attached: boolean;
  #durability: string | null = null;

  constructor(context: TargetContext) {
    super();
    if (!context.postgresUrl) throw new Error('spool-postgres needs a PostgreSQL server: the runner passes one (set SPOOL_BENCH_PG_URL, or let the bench start one)');
    this.#url = context.postgresUrl;
    const attached = context.attach?.schema;
    this.#attached = attached !== undefined;
    this.#schema = attached ?? `bench_${randomBytes(6).toString('hex')}`;
  }

  protected openOptions(): OpenOptions {
    // Only the store and its schema are given: every other setting is Spool's default.
    return { store: this.#url, schema: this.#schema };
  }

  override async setup(): Promise<void> {
    this.#durability = await serverSettings(this.#url);
    await super.setup();
  }

  durability(): string {
    if (this.#durability === null) throw new Error('spool-postgres target used before setup()');
    return this.#durability;
  }

  attachSpec(): AttachSpec {
    return { schema: this.#schema };
  }

  override async teardown(): Promise<void> {
    try {
      await super.teardown();
    } finally {
      if (!this.#attached) await this.#dropSchema();
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
