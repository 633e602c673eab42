import { emitKeypressEvents } from 'node:readline';
import type { Overview } from '../../model/overview.ts';
import type { Command } from '../command.ts';
import { formatDuration, table } from '../format.ts';
import { runOperation } from '../operation.ts';
import { printResult } from '../output.ts';

/** How often `spool top` redraws on a terminal: as often as the broker aggregates. */
const TOP_REFRESH_MS = 1000;

const rate = (n: number): string => (n === 0 ? '0' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const orDash = (v: number | null, f: (n: number) => string): string => (v === null ? '-' : f(v));

/** The overview as a table: a row per queue, with the queueing model's numbers. */
export function renderTop(o: Overview, source: string): string {
  const head = `spool top — ${source} — ${new Date(o.at).toLocaleTimeString()} — rates per second over the last ${formatDuration(o.queues[0]?.model.windowMs ?? 0)}`;
  if (o.queues.length === 0) return `${head}\n\nno queues yet`;
  const rows = o.queues.map((q) => [
    q.queue + (q.paused ? ' (paused)' : ''),
    String(q.counts.ready), String(q.counts.active), String(q.counts.scheduled), String(q.counts.dead),
    rate(q.model.arrivalRate), rate(q.model.completionRate), rate(q.model.failureRate),
    orDash(q.model.utilisation, (u) => `${Math.round(u * 100)}%`),
    String(q.model.workers),
    orDash(q.model.meanWaitMs, formatDuration),
    q.counts.ready > 0 ? formatDuration(q.oldestReadyAgeMs) : '-',
    orDash(q.model.drainEtaMs, formatDuration),
  ]);
  return `${head}\n\n${table(['QUEUE', 'READY', 'ACTIVE', 'SCHED', 'DEAD', 'λ IN', 'μ DONE', 'FAILED', 'ρ', 'SLOTS', 'W', 'OLDEST', 'DRAIN'], rows)}`;
}

/** `spool top`: the live overview, redrawn every second on a terminal. */
export const top: Command = {
  name: 'top',
  summary: 'a live view of every queue: counts, rates and the queueing model',
  usage: ['top [--once]'],
  help: `Shows every queue with its counts (READY, ACTIVE, SCHED, DEAD) and its queueing model
as the broker measures it over a sliding window, for every process on the store: λ IN (jobs added per second), μ DONE
(completed per second), FAILED (failed attempts per second), ρ (utilisation λ·S/c),
SLOTS (c, worker slots subscribed), W (mean time from add to completion), OLDEST (age of
the oldest ready job) and DRAIN (time to empty the ready jobs at the current rates).

On a terminal it redraws every second; press q (or Ctrl-C) to quit. Otherwise, or with
--once, it prints the table once. With --json: the overview once, as GET /v1/overview
answers it. The rates and slots are cluster-wide (every process on the store publishes
its counts), but measuring them takes a running process: use --url to watch a broker;
on a store (--store) only the counts are live.

Options:
  --once   print once and exit, even on a terminal`,
  options: { once: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  remote: true,
  async run(ctx) {
    const source = ctx.target.kind === 'broker' ? ctx.target.url : ctx.target.store; // for the title only
    const read = () => runOperation<Overview>(ctx.target, 'overview', {});
    const once = ctx.options.once === true || ctx.json || !process.stdout.isTTY;
    if (once) {
      const o = await read();
      return printResult(ctx.json, o, () => renderTop(o, source));
    }
    await live(read, source);
  },
};

/** Redraws until q or Ctrl-C. */
async function live(read: () => Promise<Overview>, source: string): Promise<void> {
  const stdin = process.stdin;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  if (stdin.isTTY) {
    emitKeypressEvents(stdin);
    stdin.setRawMode(true);
    stdin.on('keypress', (_s: string, key: { name?: string; ctrl?: boolean }) => {
      if (key.name === 'q' || (key.ctrl && key.name === 'c')) stop();
    });
  }
  process.once('SIGINT', stop);
  let timer: NodeJS.Timeout | undefined;
  const draw = async () => {
    try {
      const text = renderTop(await read(), source);
      process.stdout.write(`\x1b[H\x1b[2J${text}\n\npress q to quit\n`);
    } catch (err) {
      process.stdout.write(`\x1b[H\x1b[2J${(err as Error).message}\n\nretrying every second; press q to quit\n`);
    }
    timer = setTimeout(() => void draw(), TOP_REFRESH_MS);
  };
  await draw();
  await stopped;
  clearTimeout(timer);
  if (stdin.isTTY) stdin.setRawMode(false);
  stdin.pause();
}
