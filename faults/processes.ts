/**
 * The processes of a fault run: logging clients and brokers as child processes the runner can
 * SIGKILL, SIGSTOP, SIGCONT and start again. Each start is a new incarnation (`worker-1#2`);
 * client events (JSON lines on stdout) go into the shared history as they arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HistoryEvent, Role } from './events.ts';
import type { ClientConfig } from './clients/client-config.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const CLIENTS = fileURLToPath(new URL('./clients/', import.meta.url));
/** Longest a broker may take to print its serving line. */
const SERVE_WAIT_MS = 30_000;

/** Every child started and not yet exited: killed if the runner exits first (also on SIGINT or SIGTERM), stopped ones too. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** Whether `child` was started and has neither exited nor been killed. */
export function running(child: ChildProcess | null): boolean {
  return child !== null && child.exitCode === null && child.signalCode === null;
}

/** The append-only history of a run, and a way to wait on it. */
export class History {
  readonly events: HistoryEvent[] = [];
  #waiters = new Set<() => void>();

  push(event: HistoryEvent): void {
    this.events.push(event);
    for (const w of this.#waiters) w();
  }

  /** Resolves once `cond` holds; rejects with `what` after `timeoutMs`. */
  until(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      const poll = setInterval(check, 100);
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }
}

export interface Managed {
  readonly name: string;
  readonly role: Role;
  /** The current incarnation's name, e.g. `worker-1#2`. */
  readonly proc: string;
  alive(): boolean;
  /** The current incarnation's process id (null before the first start). */
  pid(): number | null;
  start(): Promise<void>;
  /** Sends `signal`, records the fault marker, and for SIGKILL waits for the exit. */
  signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  stderr(): string;
}

abstract class Process implements Managed {
  #incarnation = 0;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';

  readonly name: string;
  readonly role: Role;
  protected readonly history: History;

  constructor(name: string, role: Role, history: History) {
    this.name = name;
    this.role = role;
    this.history = history;
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
    return this.#stderr.slice(-4000);
  }

  protected abstract command(): string[];
  /** Extra environment of the child (e.g. a clock of its own, see faults/clock.ts). */
  protected environment(): Record<string, string> {
    return {};
  }
  protected abstract onLine(line: string): void;
  protected async ready(): Promise<void> {}

  async start(): Promise<void> {
    this.#incarnation++;
    const env = { ...process.env, ...this.environment() };
    delete env.SPOOL_STORE;
    // SPOOL_FAULTS_NODE_ARGS: options for Node itself (the soak pins V8's young generation with them).
    const nodeArgs = env.SPOOL_FAULTS_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, ...this.command()], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.#child = child;
    live.add(child);
    child.on('exit', () => live.delete(child));
    this.history.push({ type: 'fault', at: Date.now(), proc: 'runner', action: 'start', target: this.proc, role: this.role });
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const p of parts) if (p) this.onLine(p);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-20_000);
    });
    this.#exited = new Promise((resolve) => child.on('close', () => resolve()));
    await this.ready();
    this.history.push({ type: 'fault', at: Date.now(), proc: 'runner', action: 'ready', target: this.proc, role: this.role });
  }

  async signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const action = signal === 'SIGKILL' ? 'kill' : signal === 'SIGSTOP' ? 'stop' : 'cont';
    this.history.push({ type: 'fault', at: Date.now(), proc: 'runner', action, target: this.proc, role: this.role });
    this.#child?.kill(signal);
    if (signal === 'SIGKILL') await this.#exited;
  }

  async stop(graceMs = 15_000): Promise<void> {
    if (!this.alive()) return;
    this.#child!.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  protected exited(): Promise<void> {
    return this.#exited;
  }
}

/** A producer or worker from faults/clients/, given its config (with the incarnation's name). */
export class ClientProcess extends Process {
  readonly #config: () => Omit<ClientConfig, 'proc'>;
  readonly #env: Record<string, string>;

  constructor(name: string, role: 'producer' | 'worker', history: History, config: () => Omit<ClientConfig, 'proc'>, env: Record<string, string> = {}) {
    super(name, role, history);
    this.#config = config;
    this.#env = env;
  }

  protected override environment(): Record<string, string> {
    return this.#env;
  }

  protected command(): string[] {
    return [`${CLIENTS}${this.role}.ts`, JSON.stringify({ ...this.#config(), proc: this.proc })];
  }

  protected onLine(line: string): void {
    try {
      this.history.push(JSON.parse(line) as HistoryEvent);
    } catch {
      process.stderr.write(`${this.proc}: ${line}\n`);
    }
  }
}

/** `spool serve` on `store` (a SQLite path, or a PostgreSQL URL with `--schema`), always on `port`. */
export class BrokerProcess extends Process {
  #serving: (() => void) | null = null;

  readonly port: number;
  readonly #store: string;
  readonly #extra: readonly string[];
  readonly #env: Record<string, string>;

  constructor(name: string, history: History, store: string, port: number, extra: readonly string[], env: Record<string, string> = {}) {
    super(name, 'broker', history);
    this.#store = store;
    this.port = port;
    this.#extra = extra;
    this.#env = env;
  }

  protected override environment(): Record<string, string> {
    return this.#env;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  protected command(): string[] {
    return [MAIN, 'serve', '--store', this.#store, '--port', String(this.port), '--json', '--log-level', 'warn', ...this.#extra];
  }

  protected onLine(line: string): void {
    if (line.includes('"serving"')) this.#serving?.();
  }

  protected override async ready(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.proc} did not serve within ${SERVE_WAIT_MS} ms: ${this.stderr()}`)), SERVE_WAIT_MS);
      this.#serving = () => {
        clearTimeout(timer);
        resolve();
      };
      void this.exited().then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.proc} exited before serving: ${this.stderr()}`));
      });
    });
    this.#serving = null;
  }
}
