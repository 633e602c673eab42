/**
 * How late delayed jobs start on an idle engine: the time from a job's due time (`runAt`) to its
 * handler's start, on Spool's own clock. Each round adds 20 jobs at once, each delayed by its
 * own amount spread over 100–2,000 ms, to a queue whose one worker (concurrency 20) is idle, and
 * waits for all 20: the engine has nothing else to do, so what is measured is the due timer
 * (armed from the store's next due time), the promotion and the push to the worker. The bar
 * (docs/benchmarks.md, Delays): p99 ≤ 50 ms on each store.
 *
 *   npm run bench:delays                                  # both stores, 10 rounds × 20 jobs, 3 runs
 *   npm run bench:delays -- --store sqlite --runs 1 --rounds 5
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Spool } from '../src/index.ts';
import { benchPostgres } from './postgres-server.ts';
import { summarize } from './stats.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'both' },
    runs: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '10' },
  },
});
const STORES = values.store === 'both' ? ['sqlite', 'postgres'] : [values.store!];
for (const s of STORES) if (s !== 'sqlite' && s !== 'postgres') throw new Error(`--store ${s}: use sqlite, postgres or both`);
const RUNS = Number(values.runs);
const ROUNDS = Number(values.rounds);
const PER_ROUND = 20;
const BAR_P99_MS = 50;

/** The delays of one round: spread over 100–2,000 ms, each its own. */
const DELAYS = Array.from({ length: PER_ROUND }, (_, i) => 100 + Math.round((i * 1900) / (PER_ROUND - 1)));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One run on a fresh store: every job's lateness in ms (negative: it started early, a bug). */
async function run(spool: Spool): Promise<number[]> {
  const queue = spool.queue<number>('delays');
  const late: number[] = [];
  let waiting: (() => void) | null = null;
  const worker = queue.work(
    async (job) => {
      late.push(spool.clock.now() - job.runAt);
      if (late.length % PER_ROUND === 0) waiting?.();
    },
    { concurrency: PER_ROUND },
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const done = new Promise<void>((resolve) => (waiting = resolve));
      await queue.addMany(DELAYS.map((delayMs) => ({ payload: delayMs, delayMs })));
      await done;
    }
  } finally {
    await worker.close();
  }
  return late;
}

const pg = STORES.includes('postgres') ? await benchPostgres() : null;
let missed = false;
try {
  process.stdout.write(`delayed job lateness on an idle engine (due time → handler start, Spool's clock), ${ROUNDS} rounds × ${PER_ROUND} jobs per run, ${RUNS} run(s)\n`);
  if (pg) process.stdout.write(`PostgreSQL: ${pg.origin}; ${pg.settings}\n`);
  process.stdout.write('store      p50 ms   p99 ms   max ms   early   (median of runs; range of p99)\n');
  for (const store of STORES) {
    const p50: number[] = [];
    const p99: number[] = [];
    const max: number[] = [];
    let early = 0;
    for (let r = 0; r < RUNS; r++) {
      const dir = mkdtempSync(join(tmpdir(), 'spool-delays-'));
      const spool = await Spool.open(
        store === 'sqlite' ? { store: dir } : { store: pg!.url, schema: `delays_${process.pid}_${r}` },
      );
      try {
        const late = (await run(spool)).sort((a, b) => a - b);
        early += late.filter((ms) => ms < 0).length;
        p50.push(percentile(late, 50));
        p99.push(percentile(late, 99));
        max.push(late.at(-1)!);
      } finally {
        await spool.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const s99 = summarize(p99);
    const ok = s99.median <= BAR_P99_MS && early === 0;
    if (!ok) missed = true;
    process.stdout.write(
      `${store.padEnd(9)} ${summarize(p50).median.toFixed(1).padStart(7)}  ${s99.median.toFixed(1).padStart(7)}  ${summarize(max).median.toFixed(1).padStart(7)}  ${String(early).padStart(6)}   ${s99.min.toFixed(1)}–${s99.max.toFixed(1)}; bar p99 ≤ ${BAR_P99_MS} ms: ${ok ? 'met' : 'missed'}\n`,
    );
  }
} finally {
  await pg?.close();
}
process.exitCode = missed ? 1 : 0;
