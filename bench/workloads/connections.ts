import { readdirSync } from 'node:fs';
import { startProcs, type Proc } from './multi-process.ts';
import { check, count, type RunContext, type RunFigures } from './run-context.ts';

/**
 * C1000 settings: 1,000 idle client sessions to one broker, opened from 4 client
 * processes (250 each), held for 5 s.
 */
export const C1000 = { connections: 1_000, processes: 4, holdMs: 5_000 } as const;

/** How often the broker's resident set is sampled while the connections are held. */
const SAMPLE_INTERVAL_MS = 100;
const MiB = 1024 * 1024;

/**
 * C1000 connection memory (broker targets only): `processes` client processes
 * (bench/proc.ts, role `idle`) each open their share of `connections` sessions
 * with `Spool.connect` (WebSocket upgrade, `hello`, `welcome`) and leave them
 * idle; once all are open, the broker's RSS is sampled every 100 ms for
 * `holdMs`. The figure is the highest sample (MiB). The broker's RSS before the
 * connections (with this process's one session) and its open file descriptors
 * are logged beside it, as a check that the broker holds them all.
 * @example
 * const { 'C1000-rss': mib } = await idleConnectionsRss(ctx);
 */
export async function idleConnectionsRss(
  ctx: RunContext,
  connections: number = C1000.connections,
  processes: number = C1000.processes,
  holdMs: number = C1000.holdMs,
): Promise<RunFigures> {
  const { target, log } = ctx;
  check(Number.isInteger(connections / processes), `${count(connections)} connections do not split evenly over ${processes} processes`);
  check(target.idleConnections !== undefined, `${target.id} has no broker to open idle connections to`);
  const pid = Number(target.attachSpec?.().brokerPid);
  check(Number.isInteger(pid) && pid > 0, `${target.id} names no broker process`);
  const fds = (): number => readdirSync(`/proc/${pid}/fd`).length;
  const before = await target.brokerMemory();
  const fdsBefore = fds();
  const procs: Proc[] = [];
  try {
    const openedAt = performance.now();
    await startProcs(ctx, procs, 'idle', processes, { concurrency: 0, inFlight: 0, connections: connections / processes });
    const openMs = performance.now() - openedAt;
    const fdsOpen = fds();
    check(fdsOpen - fdsBefore >= connections, `expected the broker to hold ${count(connections)} more sockets, it has ${count(fdsOpen - fdsBefore)} more file descriptors`);

    let peak = 0;
    let last = 0;
    const holdUntil = performance.now() + holdMs;
    while (performance.now() < holdUntil) {
      last = (await target.brokerMemory()).rssBytes;
      peak = Math.max(peak, last);
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_INTERVAL_MS));
    }
    check(fds() - fdsBefore >= connections, `the broker dropped connections while they were held (${count(fds() - fdsBefore)} sockets left)`);
    for (const p of procs) p.send({ type: 'stop' });
    await Promise.all(procs.map((p) => p.next('closed')));
    await Promise.all(procs.map((p) => p.exited()));
    const perConnectionKiB = ((peak - before.rssBytes) / connections) / 1024;
    log(
      `${count(connections)} idle sessions from ${processes} processes opened in ${(openMs / 1000).toFixed(1)} s (process start included); ` +
        `broker RSS ${(before.rssBytes / MiB).toFixed(1)} MiB before, ${(peak / MiB).toFixed(1)} MiB at most while held (${(last / MiB).toFixed(1)} MiB at the end), ` +
        `about ${perConnectionKiB.toFixed(0)} KiB per connection; broker file descriptors ${fdsBefore} → ${fdsOpen}`,
    );
    return { 'C1000-rss': peak / MiB };
  } finally {
    for (const p of procs) p.kill();
  }
}
