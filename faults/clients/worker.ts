// A worker that logs: subscribes to the queue with `concurrency` credits (no lease extension:
// a job takes `workMs`, well under the visibility timeout) and writes a `delivered` event per
// job (id, caller id from the payload, attempt, lease token), then acks that very lease and
// writes a `completed` event with the outcome: `ok` (confirmed), `stale` (refused: the lease is
// no longer held) or `unknown` (no answer). A stale refusal that shows this very token
// completed the job (an ack whose confirm was lost, sent again) is an `ok`. On SIGTERM it stops
// taking jobs, waits for its acks and exits 0. Usage: node faults/clients/worker.ts '<ClientConfig JSON>'
import { StaleLeaseError } from '../../src/index.ts';
import type { Job, Lease } from '../../src/core/job.ts';
import { emit, openClient, readConfig } from './client-config.ts';

const config = readConfig();
const { proc } = config;
const spool = await openClient(config);
const workMs = config.workMs ?? 20;
const pending = new Set<Promise<void>>();
let stopping = false;

async function run(job: Job): Promise<void> {
  const payload = job.payload as { callerId?: unknown } | null;
  const callerId = typeof payload?.callerId === 'string' ? payload.callerId : null;
  emit({ type: 'delivered', proc, jobId: job.id, callerId, attempt: job.attempt, token: job.leaseToken });
  await new Promise((r) => setTimeout(r, workMs)); // the job's work
  const lease: Lease = { jobId: job.id, token: job.leaseToken };
  try {
    await spool.ack(lease, null);
    emit({ type: 'completed', proc, jobId: job.id, token: lease.token, outcome: 'ok' });
  } catch (err) {
    if (err instanceof StaleLeaseError) {
      const mine = err.currentState === 'completed' && err.currentToken === lease.token;
      emit({ type: 'completed', proc, jobId: job.id, token: lease.token, outcome: mine ? 'ok' : 'stale', error: err.message });
    } else {
      emit({ type: 'completed', proc, jobId: job.id, token: lease.token, outcome: 'unknown', error: String((err as Error)?.message ?? err) });
    }
  }
}

const subscription = spool.subscribe(config.queue, {
  deliver(jobs) {
    for (const job of jobs) {
      const p = run(job).finally(() => {
        pending.delete(p);
        if (!stopping) subscription.addCredits(1);
      });
      pending.add(p);
    }
  },
  revoke() {}, // the ack will tell: it is refused as stale
});
subscription.addCredits(config.concurrency ?? 4);
// A bare subscription does not keep the process alive (work() would): this does, until SIGTERM.
const alive = setInterval(() => {}, 1 << 30);

process.on('SIGTERM', async () => {
  stopping = true;
  subscription.close();
  while (pending.size > 0) await Promise.all(pending);
  clearInterval(alive);
  await spool.close();
  process.exit(0);
});
