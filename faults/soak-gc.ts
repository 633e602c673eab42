// Preloaded into every process of a soak (NODE_OPTIONS="--expose-gc --import <this file>"): a full
// collection once a minute, so the RSS the soak judges is what a process retains, not how much
// garbage V8 chose to let pile up before collecting. Without it, a worker whose live heap stayed
// at 14 MB grew its RSS by tens of MB over half an hour (docs/reliability.md, Soak); a leak still
// grows RSS under it, minute after minute.
// With SPOOL_SOAK_HEAP_DIR set, each process also writes `<pid>.jsonl` there every 10 s: its RSS,
// the size of each V8 heap space, the heap in use (after the collection, on collection lines) and
// memory outside the heap, so a rise in RSS can be told apart: the heap, its spaces growing, or native memory.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';

const collect = (globalThis as { gc?: () => void }).gc;
const dir = process.env.SPOOL_SOAK_HEAP_DIR;
const MiB = 1024 * 1024;
let ticks = 0;

function tick(): void {
  const collected = ticks++ % 6 === 0 && collect !== undefined;
  if (collected) collect();
  if (!dir) return;
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, +(s.space_size / MiB).toFixed(1)]));
  const line = { at: Date.now(), argv: process.argv.slice(1, 3).join(' ').slice(-60), collected, rss: +(m.rss / MiB).toFixed(1), heapUsed: +(m.heapUsed / MiB).toFixed(1), external: +(m.external / MiB).toFixed(1), spaces };
  appendFileSync(join(dir, `${process.pid}.jsonl`), JSON.stringify(line) + '\n');
}
setInterval(tick, 10_000).unref();
