/**
 * The hot path's cost per job in CPU time, which a shared machine disturbs little (wall-clock
 * rates move by ±50 % when other work shares the cores): the engine, and with `server` a broker
 * and a remote client too, all in this one process, so the figure is everything a job costs.
 *
 *   node bench/hot-path-cost.ts embedded   # Spool.open on SQLite
 *   node bench/hot-path-cost.ts server     # the same Spool behind startBroker, used through Spool.connect
 *
 * drain: 20,000 jobs added (not measured), then drained by one worker of concurrency 32 (W3's
 * shape); round trip: 2,000 jobs one at a time, each added, run and acknowledged before the next
 * (W4's shape; idle upkeep in between counts too). It uses only the public API that every
 * version since the broker has, so it can be copied into an older checkout to compare commits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../src/index.ts';
import { startBroker } from '../src/server/broker.ts';

const DRAIN_JOBS = 20_000;
const ROUND_TRIPS = 2_000;

/** The part of both Spools this uses (the remote one's workers are the same shape). */
interface Api {
  addMany(queue: string, items: { payload: unknown }[]): Promise<unknown>;
  add(queue: string, payload: unknown): Promise<unknown>;
  work(queue: string, handler: () => void, options: { concurrency: number }): { close(): Promise<void> };
}

const cpuUs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return u.user + u.system;
};

async function drain(api: Api, queue: string): Promise<number> {
  for (let i = 0; i < DRAIN_JOBS; i += 1000) {
    await api.addMany(queue, Array.from({ length: 1000 }, (_, k) => ({ payload: { n: i + k, text: 'x'.repeat(100) } })));
  }
  const cpu = process.cpuUsage();
  let done = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const worker = api.work(queue, () => void (++done === DRAIN_JOBS && resolve()), { concurrency: 32 });
  await promise;
  const used = cpuUs(cpu);
  await worker.close();
  return used / DRAIN_JOBS;
}

async function roundTrips(api: Api, queue: string): Promise<number> {
  let ran: (() => void) | null = null;
  const worker = api.work(queue, () => ran!(), { concurrency: 1 });
  const cpu = process.cpuUsage();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const { promise, resolve } = Promise.withResolvers<void>();
    ran = resolve;
    await api.add(queue, { n: i });
    await promise;
  }
  const used = cpuUs(cpu);
  await worker.close();
  return used / ROUND_TRIPS;
}

const mode = process.argv[2] ?? 'embedded';
if (mode !== 'embedded' && mode !== 'server') throw new Error(`mode is embedded or server (got ${JSON.stringify(mode)})`);
const dir = mkdtempSync(join(tmpdir(), 'spool-hot-path-'));
const spool = await Spool.open({ store: dir });
const broker = mode === 'server' ? await startBroker(spool, { port: 0 }) : null;
const remote = broker ? await Spool.connect(broker.wsUrl) : null;
const api = (remote ?? spool) as unknown as Api;
try {
  const drainUs = await drain(api, 'drain');
  const roundTripUs = await roundTrips(api, 'round-trip');
  process.stdout.write(`${JSON.stringify({ mode, drainCpuUsPerJob: Number(drainUs.toFixed(1)), roundTripCpuUsPerJob: Number(roundTripUs.toFixed(1)) })}\n`);
} finally {
  await remote?.close();
  await broker?.close();
  await spool.close();
  rmSync(dir, { recursive: true, force: true });
}
