/**
 * The peers' servers for `npm run bench:peers`: Redis (for BullMQ), RabbitMQ and
 * NATS with JetStream, installed from Debian's packages when missing
 * (`apt-get update`, then `apt-get install -y redis-server rabbitmq-server
 * nats-server`; root only) and started on 127.0.0.1 only, each on a free port of
 * its own, with its data in a fresh directory under the system temp directory.
 * pg-boss needs no server here: it shares the runner's PostgreSQL with
 * spool-postgres (bench/postgres-server.ts).
 *
 * - Redis, as BullMQ's production guide says: `appendonly yes`, `appendfsync
 *   everysec` (an acknowledged write can be lost in the last second before a
 *   crash), `maxmemory-policy noeviction`; RDB snapshots off (`save ""`): the AOF
 *   is the persistence, and a snapshot's fork would land at random in the runs.
 * - RabbitMQ: defaults, no plugins; the bench declares a quorum queue (which
 *   fsyncs before it confirms a publish). Its Erlang distribution and epmd listen
 *   on loopback, on ports of their own.
 * - NATS: `-js` with the store in the data directory; the stream's file store
 *   acknowledges a publish once written to the OS and fsyncs every 2 minutes (the
 *   default sync interval).
 *
 * A server that cannot be installed or started is reported with the reason, and
 * the peers that need it are skipped; what was started is stopped by `stop()`.
 * @example
 * const started = await startServers(['redis', 'nats'], log);
 * // started.env: { SPOOL_BENCH_REDIS_URL: 'redis://127.0.0.1:40123', SPOOL_BENCH_REDIS_PID: '4242', … }
 * await started.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports.ts';

/** The servers this module starts. */
export const SERVER_NAMES = ['redis', 'rabbitmq', 'nats'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** The Debian package of each server. */
export const DEBIAN_PACKAGES: Readonly<Record<ServerName, string>> = {
  redis: 'redis-server',
  rabbitmq: 'rabbitmq-server',
  nats: 'nats-server',
};

/** How long a server may take to accept connections. */
const START_TIMEOUT_MS: Readonly<Record<ServerName, number>> = { redis: 20_000, rabbitmq: 120_000, nats: 20_000 };
/** How long a graceful stop (SIGTERM) may take before the server is killed. */
const STOP_TIMEOUT_MS = 30_000;

/** One server this module started. */
export interface RunningServer {
  name: ServerName;
  /** What the bench passes to the targets: the URL and the process id (for W6). */
  env: Record<string, string>;
  /** For the log: the address, the data directory and the settings that matter. */
  description: string;
  stop(): Promise<void>;
}

/** What {@link startServers} brought up. */
export interface StartedServers {
  running: RunningServer[];
  /** The servers that could not be installed or started, with the reason. */
  failed: Map<ServerName, string>;
  /** The environment of every running server together. */
  env: Record<string, string>;
  /** Stops every running server and removes its data. Idempotent. */
  stop(): Promise<void>;
}

type Log = (line: string) => void;

/**
 * The executable of a server, or null when it is not installed. RabbitMQ is started
 * with its own script, not Debian's /usr/sbin/rabbitmq-server wrapper, which
 * switches to the rabbitmq user and the system-wide directories.
 */
export function serverBinary(name: ServerName): string | null {
  const candidates: Record<ServerName, string[]> = {
    redis: ['/usr/bin/redis-server'],
    nats: ['/usr/sbin/nats-server', '/usr/bin/nats-server'],
    rabbitmq: ['/usr/lib/rabbitmq/bin/rabbitmq-server'],
  };
  for (const path of candidates[name]) if (existsSync(path)) return path;
  if (name === 'rabbitmq') return null;
  const which = spawnSync('sh', ['-c', `command -v ${name}-server`], { encoding: 'utf8' });
  const found = which.stdout?.trim() ?? '';
  return which.status === 0 && found !== '' ? found : null;
}

/**
 * Installs the Debian packages of the servers that are missing. While apt runs, a
 * policy-rc.d that refuses to start services is put in place (when there is none),
 * so that installing does not also start system-wide servers on the default ports.
 * @returns the servers still missing, with the reason.
 */
export function installServers(names: readonly ServerName[], log: Log): Map<ServerName, string> {
  const missing = names.filter((n) => serverBinary(n) === null);
  const failed = new Map<ServerName, string>();
  if (missing.length === 0) return failed;
  const packages = missing.map((n) => DEBIAN_PACKAGES[n]);
  if (process.getuid?.() !== 0) {
    for (const n of missing) failed.set(n, `${DEBIAN_PACKAGES[n]} is not installed, and installing it needs root (apt-get install -y ${packages.join(' ')})`);
    return failed;
  }
  if (!existsSync('/usr/bin/apt-get')) {
    for (const n of missing) failed.set(n, `${DEBIAN_PACKAGES[n]} is not installed, and this is not a Debian system (no apt-get)`);
    return failed;
  }
  log(`installing ${packages.join(', ')} from Debian's packages (apt-get update; apt-get install -y)…`);
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# Put here by bench/peers/servers.ts while it installs servers: do not start them.\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update'], { env, encoding: 'utf8' });
    if (update.status !== 0) log(`apt-get update failed (exit ${update.status}): ${update.stderr.trim().split('\n').pop() ?? ''}`);
    const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, encoding: 'utf8' });
    if (install.status !== 0) {
      const why = install.stderr.trim().split('\n').filter((l) => l.startsWith('E:')).join(' ') || `exit code ${install.status}`;
      for (const n of missing) if (serverBinary(n) === null) failed.set(n, `apt-get install ${DEBIAN_PACKAGES[n]} failed: ${why}`);
    }
  } finally {
    if (ownPolicy) unlinkSync(policy);
  }
  for (const n of missing) if (!failed.has(n) && serverBinary(n) === null) failed.set(n, `${DEBIAN_PACKAGES[n]} installed, but its server binary is not where expected`);
  return failed;
}

/**
 * Opens a TCP connection to 127.0.0.1:`port`, optionally writes `hello`, and resolves
 * with the first data the server sends (or '' when `expect` is null and it connects).
 * @throws the connection error, or a timeout.
 */
export function probe(port: number, hello: string | null, expect: RegExp | null, timeoutMs = 2_000, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = '';
    const done = (err: Error | null, value = ''): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => done(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', (err) => done(err));
    socket.once('connect', () => {
      if (hello !== null) socket.write(hello);
      if (expect === null) done(null);
    });
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      data += chunk;
      if (expect?.test(data)) done(null, data);
    });
  });
}

/** Retries `attempt` every 200 ms until it resolves, the process exits, or the time is up. */
async function waitUntil<T>(what: string, child: ChildProcess, timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`}) before it accepted connections`);
    }
    try {
      return await attempt();
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) throw new Error(`${what} did not accept connections within ${timeoutMs / 1000} s (${(last as Error)?.message ?? last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The last lines of a log file, for an error message. */
function tail(path: string, lines = 5): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/** SIGTERM, then waits for the exit; SIGKILL after the stop timeout. */
async function stopChild(child: ChildProcess, pid: number = child.pid!): Promise<void> {
  const gone = (): boolean => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  if (gone()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = performance.now() + STOP_TIMEOUT_MS;
  while (!gone() && performance.now() < deadline) {
    // A child of this process stays a zombie until it is reaped: its exit event says it is gone.
    if (pid === child.pid && (child.exitCode !== null || child.signalCode !== null)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!gone() && !(pid === child.pid && (child.exitCode !== null || child.signalCode !== null))) process.kill(pid, 'SIGKILL');
}

/** Kills a server started by {@link startProcess}, with its process group. */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Starts a process with stdout and stderr to `logPath`. */
function startProcess(command: string, args: string[], logPath: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): ChildProcess {
  const fd = openSync(logPath, 'a');
  try {
    // A process group of its own: a failed start kills the server with whatever its start script forked.
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], env, detached: true, ...(cwd ? { cwd } : {}) });
    child.on('error', () => {}); // seen as an exit by waitUntil
    return child;
  } finally {
    closeSync(fd);
  }
}

async function startRedis(dir: string): Promise<RunningServer> {
  const port = await freePort();
  const log = join(dir, 'redis.log');
  const child = startProcess(serverBinary('redis')!, [
    '--bind', '127.0.0.1', '--port', String(port), '--protected-mode', 'yes',
    '--dir', dir, '--daemonize', 'no', '--logfile', '',
    '--appendonly', 'yes', '--appendfsync', 'everysec',
    '--maxmemory-policy', 'noeviction',
    '--save', '',
  ], log);
  try {
    await waitUntil('redis-server', child, START_TIMEOUT_MS.redis, () => probe(port, 'PING\r\n', /\+PONG\r\n/));
  } catch (err) {
    killGroup(child);
    throw new Error(`${(err as Error).message}; its log: ${tail(log)}`);
  }
  return {
    name: 'redis',
    env: { SPOOL_BENCH_REDIS_URL: `redis://127.0.0.1:${port}`, SPOOL_BENCH_REDIS_PID: String(child.pid) },
    description: `redis-server on 127.0.0.1:${port} (pid ${child.pid}), data in ${dir}: appendonly yes, appendfsync everysec, maxmemory-policy noeviction, RDB snapshots off`,
    stop: () => stopChild(child),
  };
}

async function startNats(dir: string): Promise<RunningServer> {
  const port = await freePort();
  const log = join(dir, 'nats.log');
  const store = join(dir, 'jetstream');
  mkdirSync(store);
  const child = startProcess(serverBinary('nats')!, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], log);
  let info: string;
  try {
    info = await waitUntil('nats-server', child, START_TIMEOUT_MS.nats, () => probe(port, null, /^INFO .*\r\n/));
  } catch (err) {
    killGroup(child);
    throw new Error(`${(err as Error).message}; its log: ${tail(log)}`);
  }
  const version = /"version":"([^"]+)"/.exec(info)?.[1] ?? '?';
  return {
    name: 'nats',
    env: { SPOOL_BENCH_NATS_URL: `nats://127.0.0.1:${port}`, SPOOL_BENCH_NATS_PID: String(child.pid) },
    description: `nats-server ${version} on 127.0.0.1:${port} (pid ${child.pid}), JetStream store in ${store} (file store: PubAck before fsync, synced every 2 min by default)`,
    stop: () => stopChild(child),
  };
}

async function startRabbitmq(dir: string): Promise<RunningServer> {
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const log = join(dir, 'rabbitmq.log');
  const home = join(dir, 'home');
  mkdirSync(home);
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${port}\n`);
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home, // the Erlang cookie
    RABBITMQ_NODENAME: `spoolbench${port}@localhost`,
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
  };
  const child = startProcess(serverBinary('rabbitmq')!, [], log, env, dir);
  const stopEpmd = (): void => void spawnSync('epmd', ['-kill'], { env, stdio: 'ignore' });
  let pid: number;
  try {
    await waitUntil('rabbitmq-server', child, START_TIMEOUT_MS.rabbitmq, async () => {
      if (!/Starting broker\.\.\. completed/.test(readFileSync(log, 'utf8'))) throw new Error('still booting');
      await probe(port, 'AMQP\x00\x00\x09\x01', /^\x01/);
    });
    pid = Number(readFileSync(env.RABBITMQ_PID_FILE!, 'utf8').trim()) || child.pid!;
  } catch (err) {
    killGroup(child);
    stopEpmd();
    throw new Error(`${(err as Error).message}; its log: ${tail(log)}`);
  }
  return {
    name: 'rabbitmq',
    env: { SPOOL_BENCH_AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}`, SPOOL_BENCH_RABBITMQ_PID: String(pid) },
    description: `rabbitmq-server on 127.0.0.1:${port} (beam.smp pid ${pid}), data in ${dir}, no plugins; the bench declares quorum queues`,
    stop: async () => {
      await stopChild(child, pid);
      await stopChild(child);
      stopEpmd();
    },
  };
}

const STARTERS: Readonly<Record<ServerName, (dir: string) => Promise<RunningServer>>> = {
  redis: startRedis,
  rabbitmq: startRabbitmq,
  nats: startNats,
};

/**
 * Installs (when missing) and starts the given servers, one after the other, each
 * with a fresh data directory. Failures are collected, not thrown.
 */
export async function startServers(names: readonly ServerName[], log: Log): Promise<StartedServers> {
  const failed = installServers(names, log);
  const running: RunningServer[] = [];
  const dirs: string[] = [];
  for (const name of names) {
    if (failed.has(name)) continue;
    const dir = mkdtempSync(join(tmpdir(), `spool-bench-${name}-`));
    dirs.push(dir);
    const startedAt = performance.now();
    try {
      const server = await STARTERS[name](dir);
      running.push(server);
      log(`${server.description} (up in ${((performance.now() - startedAt) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failed.set(name, `${DEBIAN_PACKAGES[name]} could not be started: ${(err as Error).message}`);
    }
  }
  let stopping: Promise<void> | null = null;
  return {
    running,
    failed,
    env: Object.assign({}, ...running.map((s) => s.env)) as Record<string, string>,
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all(running.map((s) => s.stop().catch((err: unknown) => log(`stopping ${s.name} failed: ${(err as Error).message}`))));
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      })()),
  };
}
