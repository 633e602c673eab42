/**
 * The broker of the spool-server and spool-postgres deployments: `spool serve` in
 * a process of its own, on the SQLite store in a fresh data directory (or on a
 * PostgreSQL schema), on a free loopback port, with every setting at its default. Clients reach it with `Spool.connect(wsUrl)`.
 * @example
 * const broker = await startBrokerProcess({ dataDir });
 * const spool = await Spool.connect(broker.wsUrl);
 * …
 * await spool.close();
 * await broker.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts');
/** How long the broker may take to say it is serving. */
const START_TIMEOUT_MS = 30_000;
/** How long a graceful stop (SIGTERM) may take before the broker is killed. */
const STOP_TIMEOUT_MS = 30_000;
/** What `spool serve` says on stderr on every graceful stop: not worth repeating in the bench's output. */
const ROUTINE_NOTES = /^spool serve: (SIG[A-Z]+, closing|stopped)$/;

/** Where to write a V8 CPU profile of the broker (`--cpu-prof`), or null. */
export interface CpuProf {
  dir: string;
  /** The file name, e.g. `spool-server-W3-run1-broker.cpuprofile`. */
  name: string;
}

/** A running broker process. */
export interface BrokerProcess {
  readonly pid: number;
  /** `ws://127.0.0.1:<port>/v1/ws` */
  readonly wsUrl: string;
  /** What an acknowledged write survives, as the broker reports it (`fsync on commit`). */
  readonly durability: string;
  /** The SQS endpoint, when started with `sqsPort`. */
  readonly sqsUrl?: string;
  /** SIGTERM, then waits for the graceful stop (the store closed, a CPU profile written); SIGKILL after 30 s. Idempotent. */
  stop(): Promise<void>;
}

/** The `{"status":"serving",…}` line of `spool serve --json`. */
interface ServingLine {
  status: 'serving';
  location: string;
  durability: string;
  url: string;
  wsUrl: string;
  sqsUrl?: string;
}

/**
 * Starts `node src/cli/main.ts serve --store <dataDir> [--schema s] --port 0 --json [--sqs-port 0]` and waits
 * for its serving line. With `metrics: false`, the same broker with `--no-metrics` (no
 * `/metrics`). Its stderr is passed on, prefixed `[broker]`, except
 * the routine shutdown notes.
 * @throws when it exits or stays silent before serving.
 */
export function startBrokerProcess(options: { dataDir: string; cpuProf?: CpuProf | null; schema?: string; metrics?: boolean; sqs?: boolean }): Promise<BrokerProcess> {
  const { cpuProf } = options;
  const nodeArgs = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf.dir}`, `--cpu-prof-name=${cpuProf.name}`] : [];
  const schema = options.schema ? ['--schema', options.schema] : [];
  const noMetrics = options.metrics === false ? ['--no-metrics'] : [];
  const sqs = options.sqs ? ['--sqs-port', '0'] : [];
  const child = spawn(process.execPath, [...nodeArgs, CLI_PATH, 'serve', '--store', options.dataDir, ...schema, '--port', '0', '--json', ...noMetrics, ...sqs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderrTail = '';
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line !== '' && !ROUTINE_NOTES.test(line)) process.stderr.write(`  [broker ${child.pid}] ${line}\n`);
  });
  let stdout = '';
  return new Promise<BrokerProcess>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`the spool-server broker ${why}${stderrTail ? `; its stderr: ${stderrTail.trim()}` : ''}`));
    };
    const timer = setTimeout(() => fail(`did not say it was serving within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited before serving (${signal ? `signal ${signal}` : `code ${code}`})`);
    child.once('exit', onExit);
    child.once('error', (err) => fail(`could not be started: ${err.message}`));
    const onData = (chunk: string): void => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // the stopped line comes later: read and drop it
      let serving: ServingLine;
      try {
        serving = JSON.parse(stdout.slice(0, newline)) as ServingLine;
        if (serving.status !== 'serving' || typeof serving.wsUrl !== 'string') throw new Error('not a serving line');
      } catch {
        fail(`printed ${JSON.stringify(stdout.slice(0, newline))} instead of its serving line`);
        return;
      }
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(brokerHandle(child, serving));
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
  });
}

function brokerHandle(child: ChildProcess, serving: ServingLine): BrokerProcess {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopping: Promise<void> | null = null;
  return {
    pid: child.pid!,
    wsUrl: serving.wsUrl,
    durability: serving.durability,
    ...(serving.sqsUrl ? { sqsUrl: serving.sqsUrl } : {}),
    stop() {
      stopping ??= (async () => {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          process.stderr.write(`  [broker ${child.pid}] no graceful stop within ${STOP_TIMEOUT_MS / 1000} s: killed\n`);
          child.kill('SIGKILL');
        }, STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
        if (child.exitCode !== 0) process.stderr.write(`  [broker ${child.pid}] stopped with ${child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`}\n`);
      })();
      return stopping;
    },
  };
}

/**
 * Resident set of a process, from `/proc/<pid>/status` (Linux): `VmRSS` now and
 * `VmHWM`, the kernel's high-water mark, in bytes.
 * @throws when the process is gone or /proc is not there.
 */
export function processMemory(pid: number): { rssBytes: number; peakRssBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** Linux's clock tick for /proc/<pid>/stat times (USER_HZ: 100 on every mainstream build). */
const USER_HZ = 100;

/**
 * CPU time a process has used (user + system), from `/proc/<pid>/stat` (Linux), in
 * microseconds, with the kernel's 10 ms resolution; null where /proc is not there. CPU time
 * per unit of work stays meaningful on a loaded machine, where throughput does not.
 */
export function processCpuMicros(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces, inside parentheses): utime is the 14th field, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / USER_HZ;
}
