import { createHash } from 'node:crypto';
import pg from 'pg';
import { InvalidArgumentError } from '../../core/errors.ts';

/** A result row. */
export type Row = Record<string, any>;
/** Rows, with the number of rows the statement touched. */
export type Rows = Row[] & { count: number };

/** Where a statement runs: the pool, or one open transaction. */
export interface Executor {
  q(text: string, params?: readonly unknown[]): Promise<Rows>;
}

/** int8 (epoch milliseconds, counts) as JavaScript numbers; every other type as node-postgres parses it. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)) as never,
};

/** Prepared-statement names: one per distinct text, so each connection parses a statement once. */
const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) names.set(text, (name = 'spool_' + createHash('sha1').update(text).digest('hex').slice(0, 20)));
  return name;
}

function asRows(result: pg.QueryResult | pg.QueryResult[]): Rows {
  // Several statements in one text (migrations) give one result each: the last one counts.
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return Object.assign(last?.rows ?? [], { count: last?.rowCount ?? 0 });
}

/** A client inside BEGIN, as an Executor with savepoints for nested transactions. */
class TxExecutor implements Executor {
  readonly #client: pg.PoolClient;
  #savepoints = 0;
  constructor(client: pg.PoolClient) {
    this.#client = client;
  }
  async q(text: string, params: readonly unknown[] = []): Promise<Rows> {
    return asRows(await this.#client.query({ name: params.length ? statementName(text) : undefined, text, values: params as unknown[] }));
  }
  async savepoint<T>(fn: (tx: TxExecutor) => Promise<T>): Promise<T> {
    const sp = `sp_${++this.#savepoints}`;
    await this.#client.query(`SAVEPOINT ${sp}`);
    try {
      const value = await fn(this);
      await this.#client.query(`RELEASE SAVEPOINT ${sp}`);
      return value;
    } catch (err) {
      await this.#client.query(`ROLLBACK TO SAVEPOINT ${sp}`).catch(() => {});
      throw err;
    }
  }
}

/**
 * The connection pool of one process (node-postgres). Idle connections that die with
 * the server are dropped quietly: the next query opens a fresh one, and the failures
 * callers see are rejected promises, never a crash.
 */
export class PgPool implements Executor {
  readonly #pool: pg.Pool;

  /** `statementTimeoutMs`: PostgreSQL cancels any statement of this pool that runs longer (`statement_timeout`). */
  constructor(url: string, max: number, statementTimeoutMs?: number) {
    this.#pool = new pg.Pool({
      connectionString: url,
      max,
      ...(statementTimeoutMs === undefined ? {} : { statement_timeout: statementTimeoutMs }),
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 60_000,
      application_name: 'spool',
      types,
    });
    // An idle connection's error (server restart) must not crash the process; queries report outages.
    this.#pool.on('error', () => {});
  }

  async q(text: string, params: readonly unknown[] = []): Promise<Rows> {
    return asRows(await this.#pool.query({ name: params.length ? statementName(text) : undefined, text, values: params as unknown[] }));
  }

  /** Runs `fn` in a transaction on one connection; rolls back if it throws. */
  async transaction<T>(fn: (tx: TxExecutor) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken = false;
    // A checked-out client whose connection dies between queries emits 'error'; unheard, that
    // would crash the process. The failure reaches the caller through the next query instead.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const value = await fn(new TxExecutor(client));
      await client.query('COMMIT');
      return value;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  end(): Promise<void> {
    return this.#pool.end();
  }
}

export type { TxExecutor };

/**
 * Whether `schema` holds a Spool store (its `schema_version` table), asked on a connection
 * of its own that is closed again: nothing is created. Connection failures reject with the
 * client's error (see pgOpenError for a message).
 */
export async function pgSchemaExists(url: string, schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'spool' });
  client.on('error', () => {}); // a connection lost after the answer must not crash the process
  try {
    await client.connect();
    const { rows } = await client.query(
      `SELECT EXISTS (
         SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = 'schema_version'
       ) AS found`,
      [schema],
    );
    return rows[0]?.found === true;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A statement runner for a transaction the caller owns: a postgres.js transaction
 * (`sql` inside `sql.begin`) or a node-postgres client that has run BEGIN.
 * @throws InvalidArgumentError for anything else.
 */
export function callerTransaction(tx: unknown): (text: string, params: unknown[]) => Promise<unknown> {
  const t = tx as { unsafe?: (text: string, values: unknown[]) => Promise<unknown>; query?: (text: string, values: unknown[]) => Promise<unknown> };
  if (typeof tx === 'function' && typeof t.unsafe === 'function') return (text, params) => t.unsafe!(text, params);
  if (typeof tx === 'object' && tx !== null && typeof t.query === 'function') return (text, params) => t.query!.call(tx, text, params);
  throw new InvalidArgumentError('tx', 'tx must be a postgres.js transaction (the `sql` inside sql.begin) or a pg client that has run BEGIN');
}

/**
 * A dedicated connection that LISTENs on one channel and reconnects by itself
 * (every 50 ms, backing off to 1 s) when the server goes away. Notifications sent
 * while it was away are lost; consumers poll as a fallback.
 */
export class PgListener {
  readonly #url: string;
  readonly #channel: string;
  readonly #onMessage: (payload: string) => void;
  #client: pg.Client | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;
  #attempt = 0;

  constructor(url: string, channel: string, onMessage: (payload: string) => void) {
    this.#url = url;
    this.#channel = channel;
    this.#onMessage = onMessage;
  }

  /** Connects and listens; rejects if the first connection fails. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 5000, application_name: 'spool-listen' });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (msg) => {
      if (msg.channel === this.#channel && msg.payload !== undefined) this.#onMessage(msg.payload);
    });
    await client.connect();
    await client.query(`LISTEN "${this.#channel}"`);
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#attempt = 0;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client && this.#client !== null) return;
    this.#client = null;
    client.end().catch(() => {});
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry) return;
    const delay = Math.min(50 * 2 ** this.#attempt++, 1000);
    this.#retry = setTimeout(async () => {
      this.#retry = null;
      try {
        await this.#connect();
      } catch {
        this.#scheduleReconnect();
      }
    }, delay);
    this.#retry.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#client?.end().catch(() => {});
    this.#client = null;
  }
}
