/**
 * `npm run bench:peers`: the standard workload on Spool's deployments and its peers
 * side by side, in one run of the bench runner (bench/run.ts).
 *
 *   npm run bench:peers                                  # every target, the default peer set (W1–W4 and W4-noisy)
 *   npm run bench:peers -- --json                         # the JSON array only, on stdout
 *   npm run bench:peers -- --target spool-server,bullmq --workload W3,W4
 *   npm run bench:peers -- --workload W5,W6               # the 10,000 / 1,000,000 backlogs (long)
 *   npm run bench:peers -- --workload W7                  # 4 + 4 processes for 60 s (long)
 *
 * It installs the peers' client libraries into bench/peers/node_modules when they
 * are missing (`npm install --no-save` from bench/peers' own lock file: `npm ci`
 * cannot be used there, see docs/benchmarks.md), starts the servers the selected
 * peers need (bench/peers/servers.ts: Redis, RabbitMQ, NATS, each on loopback;
 * a server already named in the environment, e.g. SPOOL_BENCH_REDIS_URL, is used
 * instead when it answers), runs bench/run.ts with every other flag passed on, and
 * stops the servers it started. A peer whose library or server is not there is
 * skipped with one line saying why. pg-boss shares the runner's PostgreSQL with
 * spool-postgres. Everything but the runner's report goes to stderr.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPeerId, missingPackages, PEERS, PEERS_DIR, PEERS_ENV, type PeerId } from '../targets/peers.ts';
import { probe, startServers, type ServerName, type StartedServers } from './servers.ts';

const RUN_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'run.ts');

/** Every target of the side-by-side run, in report order (bench/targets/index.ts's TARGET_IDS). */
export const ALL_TARGETS = ['spool-embedded', 'spool-server', 'spool-postgres', 'bullmq', 'pg-boss', 'rabbitmq', 'nats'] as const;

/**
 * The workloads `npm run bench:peers` runs when `--workload` is not given: W1–W4 and
 * W4-noisy (W4 beside a CPU-bound process: every peer runs it, each with its own
 * neighbour) on every target, meant to fit in the 15 minutes the whole run may take
 * on a 2-core machine.
 * W5/W6 (a 1,000,000-job backlog, three runs per target) and W7 (60 s windows, three
 * runs per target) take about as long each as the whole default set: ask for them
 * with `--workload` (see docs/benchmarks.md for the times).
 */
export const DEFAULT_PEER_WORKLOADS = 'W1,W2,W3,W4,W4-noisy';

/** The server each peer needs from this script (pg-boss uses the runner's PostgreSQL). */
export const SERVER_OF: Readonly<Partial<Record<PeerId, ServerName>>> = { bullmq: 'redis', rabbitmq: 'rabbitmq', nats: 'nats' };

/** The environment variable naming each server's URL. */
const URL_ENV: Readonly<Record<ServerName, string>> = {
  redis: 'SPOOL_BENCH_REDIS_URL',
  rabbitmq: 'SPOOL_BENCH_AMQP_URL',
  nats: 'SPOOL_BENCH_NATS_URL',
};

const USAGE = `usage: npm run bench:peers -- [--target ${ALL_TARGETS.join(',')}] [--workload ${DEFAULT_PEER_WORKLOADS}] [any flag of npm run bench]
  Spool's deployments and the peers (BullMQ, pg-boss, RabbitMQ, NATS JetStream) side by side.
  --target    default: all of them
  --workload  default: ${DEFAULT_PEER_WORKLOADS} (W5,W6 and W7 take about as long each as the whole default; ask for them)
  It installs bench/peers' client libraries when missing, starts Redis, RabbitMQ and NATS on
  loopback (installing them from Debian's packages when missing; root), runs bench/run.ts, and
  stops the servers. SPOOL_BENCH_REDIS_URL, SPOOL_BENCH_AMQP_URL and SPOOL_BENCH_NATS_URL name
  servers of your own instead (W6 then needs SPOOL_BENCH_REDIS_PID etc., the server's process id).
The runner's own flags:`;

/** What the command line asks for. */
export interface PeerPlan {
  /** The arguments for bench/run.ts, --target and --workload left out (see {@link runArgs}). */
  passThrough: string[];
  targets: string[];
  workload: string;
  help: boolean;
}

/**
 * Reads `--target` and `--workload` (as `--flag value` or `--flag=value`) and
 * passes every other argument on to the runner untouched.
 * @example
 * planPeers(['--json', '--target', 'bullmq']); // { passThrough: ['--json'], targets: ['bullmq'], workload: 'W1,W2,W3,W4,W4-noisy', help: false }
 */
export function planPeers(argv: readonly string[]): PeerPlan {
  const passThrough: string[] = [];
  let target: string | null = null;
  let workload: string | null = null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--(target|workload)(?:=(.*))?$/.exec(arg);
    if (m) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) throw new Error(`--${m[1]} needs a value`);
      if (m[1] === 'target') target = value;
      else workload = value;
    } else {
      if (arg === '--help' || arg === '-h') help = true;
      passThrough.push(arg);
    }
  }
  const targets = (target ?? ALL_TARGETS.join(','))
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  return { passThrough, targets: [...new Set(targets)], workload: workload ?? DEFAULT_PEER_WORKLOADS, help };
}

/** The runner's arguments for a plan, with the targets that are left after the skips. */
export function runArgs(plan: PeerPlan, targets: readonly string[]): string[] {
  return [...plan.passThrough, '--target', targets.join(','), '--workload', plan.workload];
}

/**
 * Whether a server given in the environment answers: null when it accepts a TCP
 * connection, else why not.
 * @example
 * await givenServerProblem('redis://127.0.0.1:1'); // 'redis://127.0.0.1:1 is unreachable (connect ECONNREFUSED 127.0.0.1:1)'
 */
export async function givenServerProblem(url: string, timeoutMs = 2_000): Promise<string | null> {
  let host: string;
  let port: number;
  try {
    const u = new URL(url);
    host = u.hostname;
    const defaults: Record<string, number> = { 'redis:': 6379, 'amqp:': 5672, 'nats:': 4222 };
    port = Number(u.port || defaults[u.protocol] || 0);
    if (!port) throw new Error('no port');
  } catch {
    return `${url} is not a URL with a host and port`;
  }
  try {
    await probe(port, null, null, timeoutMs, host);
    return null;
  } catch (err) {
    return `${redact(url)} is unreachable (${(err as Error).message})`;
  }
}

/** A URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}

const log = (line: string): void => void process.stderr.write(`bench:peers: ${line}\n`);

/** Installs bench/peers' dependencies from its lock file (npm install --no-save: the lock is not rewritten). */
function installPeerLibraries(): string | null {
  log('installing the peers\' client libraries in bench/peers (npm install --no-save, from bench/peers/package-lock.json)…');
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli && /npm-cli\.js$/.test(npmCli) ? [process.execPath, [npmCli]] : ['npm', []];
  const r = spawnSync(command, [...args, 'install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: PEERS_DIR,
    stdio: ['ignore', 2, 2], // npm's output must not reach stdout, which carries the report
  });
  if (r.error) return `npm could not be run: ${r.error.message}`;
  return r.status === 0 ? null : `npm install failed in bench/peers (exit code ${r.status})`;
}

async function main(argv: string[]): Promise<number> {
  let plan: PeerPlan;
  try {
    plan = planPeers(argv);
  } catch (err) {
    log((err as Error).message);
    return 2;
  }
  if (plan.help) {
    process.stdout.write(`${USAGE}\n`);
    return spawnSync(process.execPath, [RUN_PATH, '--help'], { stdio: 'inherit' }).status ?? 1;
  }
  const skipped = new Map<string, string>();
  const peers = plan.targets.filter(isPeerId);

  // 1. The client libraries.
  if (peers.some((id) => missingPackages(id).length > 0)) {
    const failure = installPeerLibraries();
    for (const id of peers) {
      const missing = missingPackages(id);
      if (missing.length > 0) skipped.set(id, `its client library (${missing.join(', ')}) could not be installed${failure ? `: ${failure}` : ''}`);
    }
  }

  // 2. The servers: a reachable one given in the environment, or one started here.
  const env: NodeJS.ProcessEnv = { ...process.env, [PEERS_ENV]: '1' };
  const toStart = new Set<ServerName>();
  for (const id of peers) {
    const server = SERVER_OF[id];
    if (server === undefined || skipped.has(id)) continue;
    const given = process.env[URL_ENV[server]];
    if (given) {
      const problem = await givenServerProblem(given);
      if (problem) skipped.set(id, `its server ${URL_ENV[server]}=${problem}`);
      else log(`${id} on the ${PEERS[id].server} server given in ${URL_ENV[server]}`);
    } else toStart.add(server);
  }
  let servers: StartedServers | null = null;
  let exitCode = 1;
  const stopServers = async (): Promise<void> => {
    if (servers) await servers.stop();
  };
  let child: ReturnType<typeof spawn> | null = null;
  let interrupted = false;
  // Ctrl-C reaches the runner too (same process group): let it clean up, then stop the servers.
  process.on('SIGINT', () => (interrupted = true));
  process.on('SIGTERM', () => {
    interrupted = true;
    child?.kill('SIGTERM');
  });
  try {
    if (toStart.size > 0) {
      servers = await startServers([...toStart], log);
      Object.assign(env, servers.env);
      for (const id of peers) {
        const server = SERVER_OF[id];
        const why = server ? servers.failed.get(server) : undefined;
        if (why && !skipped.has(id)) skipped.set(id, why);
      }
    }
    for (const [id, why] of skipped) log(`${id} skipped: ${why}`);
    const targets = plan.targets.filter((t) => !skipped.has(t));
    if (targets.length === 0) {
      log('nothing left to measure');
      return 1;
    }
    if (interrupted) return 130;
    // 3. The runner, with stdout passed straight through (the table, or the JSON array).
    child = spawn(process.execPath, [RUN_PATH, ...runArgs(plan, targets)], { stdio: 'inherit', env });
    exitCode = await new Promise<number>((resolve) => {
      child!.on('error', (err) => {
        log(`the runner could not be started: ${err.message}`);
        resolve(1);
      });
      child!.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));
    });
  } finally {
    await stopServers();
  }
  return exitCode;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      log((err as Error)?.stack ?? String(err));
      process.exit(1);
    },
  );
}
