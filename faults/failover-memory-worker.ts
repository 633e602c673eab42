// The remote worker of faults/failover-memory.ts: connects to every broker URL given, consumes
// `queue` two ways at once (a bare subscription that acks, as the soak's worker does, and a
// Worker from work()), and on each `probe` line on stdin collects garbage twice and prints one
// JSON line: its heap in use after the collection, RSS, and jobs done. With a path after `probe`
// it also writes a heap snapshot there. Prints `up` and `down` lines as its connection changes.
// Usage: node --expose-gc faults/failover-memory-worker.ts '<urls, comma separated>' <queue>
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { writeHeapSnapshot } from 'node:v8';
import { Spool } from '../src/index.ts';
import type { Job, Lease } from '../src/core/job.ts';

const [urls, queue] = process.argv.slice(2);
const say = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify(line) + '\n');
const spool = await Spool.connect(urls!.split(','), {
  reconnectBaseMs: 50, reconnectMaxMs: 500,
  log: (line) => say({ type: line.includes('healthy again') ? 'up' : line.includes('unhealthy') ? 'down' : 'log', line }),
  onError: () => {},
});
let acked = 0;
let stale = 0;
async function run(job: Job): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
  const lease: Lease = { jobId: job.id, token: job.leaseToken };
  try {
    await spool.ack(lease, null);
    acked++;
  } catch {
    stale++;
  }
}
const sub = spool.subscribe(queue!, {
  deliver(jobs) {
    for (const job of jobs) void run(job).finally(() => sub.addCredits(1));
  },
  revoke() {},
});
sub.addCredits(4);
let worked = 0;
const worker = spool.work(queue!, async () => {
  await new Promise((r) => setTimeout(r, 20));
  worked++;
}, { concurrency: 4 });
worker.on('error', () => {});

const gc = (globalThis as { gc?: () => void }).gc!;
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, path] = line.split(' ');
  if (cmd !== 'probe') return;
  gc();
  gc();
  const m = process.memoryUsage();
  if (path) writeHeapSnapshot(path);
  const anon = Number(/^Anonymous:\s+(\d+)/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0) * 1024;
  say({ type: 'probe', heapUsed: m.heapUsed, rss: m.rss, anon, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, acked, stale, worked, running: worker.running });
});
say({ type: 'ready' });
