import { createHash } from 'node:crypto';
import pg from 'pg';
import { InvalidArgumentError } from '../../core/errors.ts';
import { NO_WRITABLE_HOST, parsePgUrl, READ_ONLY_HOST, type PgSessionAttrs, type PgUrl } from './pg-url.ts';

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

export { NO_WRITABLE_HOST, READ_ONLY_HOST };

/**
 * Rejects (code READ_ONLY_HOST) unless the server behind `client` accepts writes, as libpq's
 * `target_session_attrs=read-write` (transaction_read_only off) or `primary` (not in recovery) do.
 */
async function checkTarget(client: pg.ClientBase, target: PgSessionAttrs, at: string): Promise<void> {
  if (target === 'any') return;
  const { rows } = await client.query(`SELECT pg_catalog.pg_is_in_recovery() AS standby, pg_catalog.current_setting('transaction_read_only') AS ro`);
  const row = rows[0] as { standby: boolean; ro: string } | undefined;
  const refused = row?.standby !== false || (target === 'read-write' && row.ro !== 'off');
  if (refused) {
    throw Object.assign(new Error(`${at} accepts no writes (${row?.standby ? 'a standby, in recovery' : 'transaction_read_only is on'})`), { code: READ_ONLY_HOST });
  }
}

/**
 * What to throw when no host gave a connection: with one host, its own error (unchanged from
 * a single-host URL); with several, the first host's error when they all failed the same way
 * (a wrong password, nothing listening), else one error (NO_WRITABLE_HOST) naming each host's
 * failure. Never the password: messages name host and port only.
 */
function noHostError(failures: { at: string; err: unknown }[]): unknown {
  const codeOf = (err: unknown) => (err as { code?: unknown } | null)?.code;
  const first = failures[0]!.err;
  if (failures.length === 1 || failures.every((f) => codeOf(f.err) === codeOf(first) && codeOf(first) !== READ_ONLY_HOST)) return first;
  const each = failures.map((f) => {
    const code = codeOf(f.err);
    return code === READ_ONLY_HOST ? (f.err as Error).message : `${f.at}: ${typeof code === 'string' ? `${code} ` : ''}${(f.err as Error)?.message ?? String(f.err)}`;
  });
  return Object.assign(new Error(`no host accepts writes: ${each.join('; ')}`), { code: NO_WRITABLE_HOST, cause: first });
}

/**
 * Opens one connection (the LISTEN connection, the short-lived ones at open) to the first
 * host of `url` that connects and, unless `target_session_attrs=any`, accepts writes.
 */
export async function connectClient(url: string, config: Omit<pg.ClientConfig, 'connectionString'>): Promise<pg.Client> {
  const parsed = parsePgUrl(url);
  if (typeof parsed === 'string') throw new InvalidArgumentError('url', `the store URL is not usable: ${parsed}`);
  const failures: { at: string; err: unknown }[] = [];
  for (const { host, port, url: hostUrl } of parsed.hosts) {
    const client = new pg.Client({ ...config, connectionString: hostUrl });
    client.on('error', () => {}); // a connection lost while we look at it; the caller adds its own listener
    try {
      await client.connect();
      await checkTarget(client, parsed.target, `${host}:${port}`);
      return client;
    } catch (err) {
      failures.push({ at: `${host}:${port}`, err });
      await client.end().catch(() => {});
    }
  }
  throw noHostError(failures);
}

/**
 * The connection pool of one process (node-postgres). Idle connections that die with
 * the server are dropped quietly: the next query opens a fresh one, and the failures
 * callers see are rejected promises, never a crash.
 *
 * Several hosts (failover): node-postgres knows one host per pool, so this keeps one
 * `pg.Pool` per host (made when first needed) and a current host. A pool's new connections
 * are checked in its `onConnect` hook (pg-pool runs it before handing the connection out):
 * one that does not accept writes is refused and closed. When the current host's pool cannot
 * give a connection (the server died, restarts, or is a standby now), the hosts are tried in
 * the order written and the first that gives a writable connection becomes current. Unlike
 * libpq, a new connection does not start again from the first host while the current one
 * works: a dead first host would cost every new connection a connect timeout, and a server
 * that comes back after a failover (as a standby, or worse as a second primary) is not
 * preferred over the promoted one. We chose a pool per host over a `Client` subclass passed
 * to `pg.Pool`: a pg.Client connects once and cannot be pointed at another host after a
 * failed attempt, so a subclass would have to reset node-postgres's private state.
 * Connections to a server that goes away error and are dropped by their pool; a query that
 * fails releases its connection with the error, which closes it (as `pg.Pool.query` does).
 */
/**
 * SQLSTATEs of a transaction PostgreSQL chose to abort so that others could go on: 40P01 (a
 * deadlock between transactions that lock rows in different orders, e.g. a broker starting
 * while another's upkeep releases leases) and 40001 (a serialization failure). Nothing of the
 * aborted transaction was written, so it is run again, up to {@link TRANSIENT_TRIES} times in
 * all, after a short random pause that lets the other transaction finish.
 */
const TRANSIENT_SQLSTATES = new Set(['40P01', '40001']);
export const TRANSIENT_TRIES = 4;

async function againOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (err) {
      if (tried >= TRANSIENT_TRIES || !TRANSIENT_SQLSTATES.has((err as { code?: string })?.code ?? '')) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * tried));
    }
  }
}

export class PgPool implements Executor {
  readonly #pools: (pg.Pool | null)[];
  readonly #hosts: PgUrl['hosts'];
  readonly #make: (i: number) => pg.Pool;
  #current = 0;

  /**
   * `session.statementTimeoutMs`: PostgreSQL cancels any statement of this pool that runs longer
   * (`statement_timeout`). `session.genericPlans`: every connection plans each prepared statement
   * once (`plan_cache_mode=force_generic_plan`). The store's own pool wants that: PostgreSQL's
   * default keeps planning the insert afresh on every call (its plan for a batch of unknown size
   * looks dearer than one made for the batch at hand), and that planning cost more than running
   * it; the claims and acks already settle on their generic plans after five calls. A `SET` on
   * each new connection, not a startup option, so that poolers which refuse startup options
   * (PgBouncer) pass it.
   */
  constructor(url: string, max: number, session: { statementTimeoutMs?: number; genericPlans?: boolean } = {}) {
    const { statementTimeoutMs, genericPlans = false } = session;
    const parsed = parsePgUrl(url);
    if (typeof parsed === 'string') throw new InvalidArgumentError('url', `the store URL is not usable: ${parsed}`);
    this.#hosts = parsed.hosts;
    this.#pools = parsed.hosts.map(() => null);
    this.#make = (i) => {
      const { host, port, url: hostUrl } = parsed.hosts[i]!;
      const pool = new pg.Pool({
        connectionString: hostUrl,
        max,
        ...(statementTimeoutMs === undefined ? {} : { statement_timeout: statementTimeoutMs }),
        connectionTimeoutMillis: 5000,
        idleTimeoutMillis: 60_000,
        application_name: 'spool',
        types,
        ...(parsed.target === 'any' && !genericPlans ? {} : {
          onConnect: async (client: pg.ClientBase) => {
            if (genericPlans) await client.query('SET plan_cache_mode = force_generic_plan');
            await checkTarget(client, parsed.target, `${host}:${port}`);
          },
        }),
      } as pg.PoolConfig);
      // An idle connection's error (server restart) must not crash the process; queries report outages.
      pool.on('error', () => {});
      return pool;
    };
  }

  #pool(i: number): pg.Pool {
    return (this.#pools[i] ??= this.#make(i));
  }

  /** A connection from the current host's pool, or from the first host (in order) that gives a writable one. */
  async #connect(): Promise<pg.PoolClient> {
    const current = this.#current;
    let firstErr: unknown;
    try {
      return await this.#pool(current).connect();
    } catch (err) {
      // One host, or a wait for a free connection of a busy pool (the host is fine): nothing to fail over.
      if (this.#hosts.length === 1 || /timeout exceeded when trying to connect/.test((err as Error)?.message ?? '')) throw err;
      firstErr = err;
    }
    const failures: { at: string; err: unknown }[] = [];
    for (let i = 0; i < this.#hosts.length; i++) {
      const at = `${this.#hosts[i]!.host}:${this.#hosts[i]!.port}`;
      if (i === current) {
        failures.push({ at, err: firstErr }); // it just failed: not tried twice
        continue;
      }
      try {
        const client = await this.#pool(i).connect();
        this.#current = i;
        return client;
      } catch (err) {
        failures.push({ at, err });
      }
    }
    throw noHostError(failures);
  }

  /** One statement on its own (autocommit); run again if PostgreSQL aborted it for a deadlock or a serialization failure. */
  q(text: string, params: readonly unknown[] = []): Promise<Rows> {
    return againOnConflict(() => this.#q(text, params));
  }

  async #q(text: string, params: readonly unknown[]): Promise<Rows> {
    const client = await this.#connect();
    // A connection that dies during the query emits 'error'; unheard, that would crash the process.
    const onError = () => {};
    client.on('error', onError);
    let failed: Error | undefined;
    try {
      return asRows(await client.query({ name: params.length ? statementName(text) : undefined, text, values: params as unknown[] }));
    } catch (err) {
      failed = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.off('error', onError);
      client.release(failed);
    }
  }

  /**
   * Runs `fn` in a transaction on one connection; rolls back if it throws. A transaction
   * PostgreSQL aborted for a deadlock or a serialization failure is run again from the start
   * (so `fn` must keep its effects inside the transaction, as every caller does).
   */
  transaction<T>(fn: (tx: TxExecutor) => Promise<T>): Promise<T> {
    return againOnConflict(() => this.#transaction(fn));
  }

  async #transaction<T>(fn: (tx: TxExecutor) => Promise<T>): Promise<T> {
    const client = await this.#connect();
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

  async end(): Promise<void> {
    await Promise.all(this.#pools.map((pool) => pool?.end()));
  }
}

export type { TxExecutor };

/**
 * Whether `schema` holds a Spool store (its `schema_version` table), asked on a connection
 * of its own that is closed again: nothing is created. Connection failures reject with the
 * client's error (see pgOpenError for a message).
 */
export async function pgSchemaExists(url: string, schema: string): Promise<boolean> {
  const client = await connectClient(url, { connectionTimeoutMillis: 5000, application_name: 'spool' });
  client.on('error', () => {}); // a connection lost after the answer must not crash the process
  try {
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
