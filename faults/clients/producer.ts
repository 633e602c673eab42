// A producer that logs: adds jobs at about `rate` a second with `lanes` adds in flight, each
// with a caller id (`<proc>-<n>`) that it also writes into the payload; every `delayEvery`-th
// add is delayed by `delayMs` (its add-invoke event says so). Before each add it
// writes an `add-invoke` event, after it an `add` event with the outcome: `ok` (and the job's
// id), `refused` (and the code) or `unknown`; an unknown add is tried again with the same
// caller id, which is also the add's idempotencyKey, so the store keeps one job whatever the
// retries. On SIGTERM it stops adding, waits for the adds in
// flight and exits 0. Usage: node faults/clients/producer.ts '<ClientConfig JSON>'
import { SpoolError } from '../../src/index.ts';
import { emit, openClient, readConfig, REFUSALS } from './client-config.ts';

const config = readConfig();
const { proc } = config;
const spool = await openClient(config);
const queue = spool.queue<{ callerId: string; n: number }>(config.queue);
const rate = config.rate ?? 100;
// Paced by the monotonic clock: the clock-step fault steps this process's wall clock (embedded).
const startedAt = performance.now();
let stopping = false;
let n = 0;
process.on('SIGTERM', () => (stopping = true));

async function addOnce(callerId: string, k: number): Promise<'ok' | 'refused' | 'unknown'> {
  const delayMs = config.delayEvery && config.delayMs && k % config.delayEvery === 0 ? config.delayMs : 0;
  emit({ type: 'add-invoke', proc, callerId, ...(delayMs ? { delayMs } : {}) });
  try {
    const job = await queue.add({ callerId, n: k }, { idempotencyKey: callerId, ...(delayMs ? { delayMs } : {}) });
    emit({ type: 'add', proc, callerId, outcome: 'ok', jobId: job.id });
    return 'ok';
  } catch (err) {
    const code = err instanceof SpoolError ? err.code : null;
    if (code !== null && REFUSALS.has(code)) {
      emit({ type: 'add', proc, callerId, outcome: 'refused', code });
      return 'refused';
    }
    emit({ type: 'add', proc, callerId, outcome: 'unknown', error: `${code ?? ''} ${(err as Error)?.message ?? err}`.trim() });
    return 'unknown';
  }
}

async function lane(): Promise<void> {
  while (!stopping) {
    const waitMs = startedAt + (n * 1000) / rate - performance.now();
    if (waitMs > 0) {
      await new Promise((r) => setTimeout(r, Math.ceil(waitMs)));
      continue;
    }
    const k = n++;
    const callerId = `${proc}-${k}`;
    // An unknown outcome is retried (same caller id) until it is known, or the producer stops.
    while ((await addOnce(callerId, k)) === 'unknown' && !stopping) await new Promise((r) => setTimeout(r, 50));
  }
}

await Promise.all(Array.from({ length: config.lanes ?? 4 }, lane));
await spool.close();
process.exit(0);
