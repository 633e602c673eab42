/**
 * What W3 and its variants cost per job in the embedded engine, in measures that a shared
 * machine disturbs little: CPU time of the process and bytes it writes (`/proc/self/io`), per
 * job drained. Wall-clock rates (`npm run bench`) move by ±50 % between runs when other work
 * shares the cores; CPU time per job moves by a few percent. One process, each variant in turn
 * on a fresh SQLite data directory, default settings (durability `fsync`).
 *
 *   node bench/drain-cost.ts                      # W3, W3-priority, W3-sjf, W3-fair, W3-rate, W3-keyed, W3-sjf-one-cost; 100,000 jobs
 *   node bench/drain-cost.ts --jobs 20000 --rounds 2
 *   node bench/drain-cost.ts --variants W3,W3-keyed --rounds 3   # W3 and the variants named, each round in turn
 *
 * `W3-sjf-one-cost` is W3-sjf with every job at the same cost: the sjf order is then the add
 * order, which tells the cost of the policy from the cost of serving jobs out of add order.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Spool } from '../src/index.ts';
import { benchPayloads } from './payload.ts';
import type { BenchJob } from './target.ts';
import { DRAIN_VARIANTS, W3, type DrainVariant } from './workloads/drain.ts';

const VARIANTS: Record<string, DrainVariant | null> = {
  W3: null,
  ...DRAIN_VARIANTS,
  'W3-sjf-one-cost': { settings: { policy: 'sjf' }, job: (payload) => ({ payload, cost: 50 }) },
};

const { values } = parseArgs({ options: { jobs: { type: 'string', default: String(W3.backlog) }, rounds: { type: 'string', default: '1' }, variants: { type: 'string' } } });
const jobs = Number(values.jobs);
const rounds = Number(values.rounds);
// W3 always: the others are read against it.
const chosen = values.variants === undefined ? Object.keys(VARIANTS) : ['W3', ...values.variants.split(',').map((v) => v.trim()).filter((v) => v !== 'W3')];
for (const id of chosen) if (!(id in VARIANTS)) throw new Error(`unknown variant ${JSON.stringify(id)}: use ${Object.keys(VARIANTS).join(', ')}`);

function writtenBytes(): number {
  return Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
}

/** Fills `jobs` jobs (untimed), then drains them with one worker of W3's concurrency; returns the drain's costs. */
async function measure(variant: DrainVariant | null): Promise<{ jobsPerS: number; cpuUsPerJob: number; writtenKiBPerJob: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'spool-drain-cost-'));
  const spool = await Spool.open({ store: dir });
  try {
    const queue = spool.queue('bench');
    await queue.configure(variant?.settings ?? {});
    for (let first = 0; first < jobs; first += 1_000) {
      const payloads = benchPayloads(first, Math.min(1_000, jobs - first));
      await queue.addMany(payloads.map((payload): BenchJob => (variant ? variant.job(payload) : { payload })));
    }
    const written = writtenBytes();
    const cpu = process.cpuUsage();
    const startedAt = performance.now();
    let done = 0;
    const { promise, resolve } = Promise.withResolvers<void>();
    const worker = spool.work('bench', () => undefined, { concurrency: W3.concurrency });
    worker.on('completed', () => void (++done === jobs && resolve()));
    await promise;
    const ms = performance.now() - startedAt;
    const used = process.cpuUsage(cpu);
    const bytes = writtenBytes() - written;
    await worker.close();
    return { jobsPerS: (jobs / ms) * 1000, cpuUsPerJob: (used.user + used.system) / jobs, writtenKiBPerJob: bytes / 1024 / jobs };
  } finally {
    await spool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = new Map<string, { cpu: number[]; kib: number[]; rate: number[] }>();
for (let round = 1; round <= rounds; round++) {
  for (const id of chosen) {
    const r = await measure(VARIANTS[id]!);
    const into = results.get(id) ?? { cpu: [], kib: [], rate: [] };
    into.cpu.push(r.cpuUsPerJob);
    into.kib.push(r.writtenKiBPerJob);
    into.rate.push(r.jobsPerS);
    results.set(id, into);
    process.stderr.write(`drain-cost: round ${round} ${id}: ${Math.round(r.jobsPerS)} jobs/s, ${r.cpuUsPerJob.toFixed(1)} µs CPU and ${r.writtenKiBPerJob.toFixed(2)} KiB written per job\n`);
  }
}
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const base = results.get('W3')!;
process.stdout.write(`drain of ${jobs} jobs, spool-embedded, ${rounds} round(s), medians\n`);
process.stdout.write('variant           CPU µs/job  W3 ÷ it   KiB written/job  ÷ W3   jobs/s (wall, noisy)\n');
for (const [id, r] of results) {
  const cpu = median(r.cpu);
  const kib = median(r.kib);
  process.stdout.write(
    `${id.padEnd(16)}  ${cpu.toFixed(1).padStart(10)}  ${(median(base.cpu) / cpu).toFixed(2).padStart(7)}   ${kib.toFixed(2).padStart(15)}  ${(kib / median(base.kib)).toFixed(1).padStart(5)}   ${Math.round(median(r.rate))}\n`,
  );
}
