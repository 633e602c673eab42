/**
 * What the runner tells a logging client (one JSON argument), how the client opens Spool
 * (embedded on a store, or remote to brokers), and how it writes its events: one JSON line
 * each on stdout, written synchronously (a pipe is synchronous on Linux), so every event
 * written before a SIGKILL reaches the runner.
 */
import { writeSync } from 'node:fs';
import { Spool } from '../../src/index.ts';
import type { RemoteSpool } from '../../src/index.ts';

export interface ClientConfig {
  /** Name and incarnation, e.g. `worker-1#3`: written into every event. */
  proc: string;
  queue: string;
  /** `embedded`: Spool.open on `store` (a SQLite file); `remote`: Spool.connect to `urls`. */
  target: { kind: 'embedded'; store: string } | { kind: 'remote'; urls: string[] };
  /** Producer: adds per second and adds in flight. Worker: jobs at once and ms each takes. */
  rate?: number;
  lanes?: number;
  /** Producer: every `delayEvery`-th add is delayed by `delayMs`, so delays live through the faults too. */
  delayEvery?: number;
  delayMs?: number;
  concurrency?: number;
  workMs?: number;
}

export function readConfig(): ClientConfig {
  return JSON.parse(process.argv[2] ?? '') as ClientConfig;
}

/**
 * Writes one event as a JSON line on stdout, now, stamped with the machine's wall clock, which
 * every process and the runner share. A client whose wall clock the clock-step fault steps
 * (embedded: libfaketime, FAKETIME_TIMESTAMP_FILE set) stamps the wall clock of its start plus the
 * monotonic time since, which the fault does not touch. Only then: the monotonic clock and the
 * wall clock drift apart (seen here: 15 ms in 3 s), so a process alive for minutes would stamp its
 * events seconds off the others', as if a job had been delivered before it was added.
 */
const stepped = process.env.FAKETIME_TIMESTAMP_FILE !== undefined;
export function emit(event: Record<string, unknown>): void {
  const at = stepped ? Math.round(performance.timeOrigin + performance.now()) : Date.now();
  writeSync(1, JSON.stringify({ ...event, at }) + '\n');
}

export async function openClient(config: ClientConfig): Promise<Spool | RemoteSpool> {
  const log = (line: string) => process.stderr.write(`${config.proc}: ${line}\n`);
  if (config.target.kind === 'embedded') {
    return Spool.open({ store: config.target.store, maintenanceIntervalMs: 100, pollIntervalMs: 50, onError: (err) => log(String((err as Error)?.message ?? err)) });
  }
  return Spool.connect(config.target.urls, { reconnectBaseMs: 50, reconnectMaxMs: 500, log, onError: (err) => log(String((err as Error)?.message ?? err)) });
}

/** Error codes that say the operation was refused and nothing was written. Any other failure leaves the outcome unknown. */
export const REFUSALS: ReadonlySet<string> = new Set(['INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'QUEUE_NOT_FOUND']);
